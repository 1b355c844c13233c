"""What every figure module shares: its result record, CSV writing, and matplotlib set-up."""

import csv
import math
import os
from dataclasses import dataclass, field

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt  # noqa: E402

# Fonts bundled with matplotlib only, so a figure never waits on a font lookup or the network.
plt.rcParams.update({
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.fontsize": 7,
    "figure.dpi": 100,
    "savefig.dpi": 100,
})

DYNAMICS_COLOURS = {"naive": "tab:red", "sphere": "tab:orange", "orthogonal": "tab:blue"}
DYNAMICS_ORDER = {"naive": 0, "sphere": 1, "orthogonal": 2}

# The largest magnitude drawn. A diverged run's values reach ±1.8e308, the largest double, and
# matplotlib's axis limits and ticks (the span, its margins, tick steps) overflow there
# (OverflowError, ValueError or IndexError out of savefig); below 1e300 they have room.
DRAWABLE = 1e300


def drawable(values):
    """values as floats with what cannot be drawn (not finite, or beyond ±DRAWABLE) as NaN: a gap
    in the line instead of an axis that breaks."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(values) <= DRAWABLE, values, np.nan)


def undrawable(values):
    """How many of values drawable() leaves out (NaN, a run that stopped, is not counted)."""
    values = np.asarray(values, dtype=float)
    return int(np.count_nonzero(~np.isnan(values) & ~(np.abs(values) <= DRAWABLE)))


@dataclass
class Table:
    title: str
    header: list
    rows: list
    row_classes: list = field(default_factory=list)  # CSS class per row ("failed", "")
    run_column: int = None  # the column of run ids: the page's filters hide the rows


@dataclass
class Result:
    """One figure (or table) of a sweep: what was written, or why it was skipped."""
    key: str
    title: str
    caption: str = ""
    image: str = None                                # PNG file name in the output folder
    svg: str = None                                  # the same figure as SVG
    interactive: dict = None                         # its plotly.js specification (figure.py)
    files: list = field(default_factory=list)        # CSV file names
    notes: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    skipped: str = None                              # why nothing was drawn


def number(value):
    """A CSV cell that parses back to the same value: shortest round-trip repr for floats."""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, (int,)) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return str(int(value))
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        return repr(float(value))
    return str(value)


def write_csv(folder, name, header, rows):
    with open(os.path.join(folder, name), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([number(v) for v in row])
    return name


def save(fig, folder, name):
    """The figure as PNG (name) and SVG beside it; returns (png, svg)."""
    svg = os.path.splitext(name)[0] + ".svg"
    fig.savefig(os.path.join(folder, name), metadata={"Software": None})
    fig.savefig(os.path.join(folder, svg), metadata={"Date": None})
    plt.close(fig)
    return name, svg


def short(value):
    """A number for a label or a table cell (4 significant digits); text as it is."""
    if isinstance(value, str):
        return value
    value = float(value)
    if math.isnan(value):
        return "nan"
    return f"{value:.4g}"


def reached(side):
    """Mask of the records a run reached (step >= 0): later ones are NaN by the schema."""
    return np.asarray(side["step"]) >= 0


def failed_rows(sweep):
    return [row for row, status in enumerate(sweep.index.status) if status == "failed"]

