"""A figure drawn twice from one description: a static one by matplotlib (PNG and SVG) and an
interactive one for plotly.js (a JSON specification the page draws), whose lines and points
carry their runs: hovering shows a run's id and the settings that vary in its sweep, and the
page's filters hide the runs that do not match (page.py)."""

import math
import os

import numpy as np
from matplotlib.colors import to_hex

from .common import drawable, plt

# matplotlib's line styles by plotly's name
DASHES = {"-": "solid", "--": "dash", ":": "dot", "-.": "dashdot"}
SYMBOLS = {"o": "circle", "x": "x-thin-open", "s": "square", "^": "triangle-up", "D": "diamond"}
# Points per line in the interactive figure: a longer run is thinned evenly (its first and last
# record kept); the static figure and the CSV hold every record.
MAX_POINTS = 400
# Runs of one interactive figure: beyond, the page shows the static figure alone (a browser
# would take minutes to draw it).
MAX_RUNS = 1000


class RunInfo:
    """What the page knows of a sweep's runs: the settings that vary among them, by run id."""

    def __init__(self, sweep):
        config = sweep.index.config
        self.varying = [key for key, values in config.items() if len(set(values)) > 1]
        self.settings = {run_id: {key: config[key][row] for key in self.varying}
                         for row, run_id in enumerate(sweep.index.run_ids)}

    def describe(self, run_id):
        """The run as the hover label shows it: its id, then its varying settings."""
        settings = self.settings.get(run_id, {})
        return "<br>".join([f"run {run_id}"] + [f"{k} = {v}" for k, v in settings.items()])


def _json_numbers(values):
    """Floats for JSON: NaN and what cannot be drawn as None (a gap)."""
    return [None if not math.isfinite(v) else v for v in drawable(values).tolist()]


def _fraction(value):
    """A place on the page as plotly.js requires it, within [0, 1] whatever the rounding."""
    return min(1.0, max(0.0, round(value, 9)))


def _thinned(x, y):
    n = len(x)
    if n <= MAX_POINTS:
        return x, y
    keep = np.unique(np.round(np.linspace(0, n - 1, MAX_POINTS)).astype(int))
    return x[keep], y[keep]


class Figure:
    """rows x cols panels. line() and points() draw on both; legend entries are named once."""

    def __init__(self, runs, rows, cols, size, sharex=False, title=""):
        self.runs = runs
        self.rows, self.cols = rows, cols
        self.fig, self.axes = plt.subplots(rows, cols, figsize=size, squeeze=False,
                                           sharex="col" if sharex else False)
        self.title = title
        self.traces = []
        self.panels = {}
        self._legend = {}  # label -> (matplotlib handle kwargs)
        self.height = max(320, int(170 * rows + 120))

    def ax(self, row, col):
        return self.axes[row][col]

    def _axis_names(self, row, col):
        n = row * self.cols + col + 1
        return ("x" if n == 1 else f"x{n}"), ("y" if n == 1 else f"y{n}")

    def line(self, row, col, x, y, colour, style="-", width=1.0, alpha=1.0, label=None,
             runs=(), hover=None, marker=None, size=5):
        """A line (or, with marker and style "", points) of runs (ids) on panel (row, col).
        label: a legend entry (once per label); hover: the label's text instead of the runs'."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.axes[row][col].plot(x, drawable(y), color=colour, ls=style or "none", lw=width,
                                 alpha=alpha, marker=marker, ms=size)
        if label and label not in self._legend:
            self._legend[label] = dict(color=colour, ls=style or "none", lw=width,
                                       marker=marker, ms=size)
        xs, ys = _thinned(x, y)
        xaxis, yaxis = self._axis_names(row, col)
        text = hover or "<br>".join(self.runs.describe(r) for r in runs[:3]) + (
            f"<br>… {len(runs) - 3} more runs" if len(runs) > 3 else "")
        trace = {"type": "scatter", "x": _json_numbers(xs), "y": _json_numbers(ys),
                 "xaxis": xaxis, "yaxis": yaxis, "opacity": alpha,
                 "mode": ("markers" if not style else "lines") + ("+markers" if marker and style
                                                                  else ""),
                 "name": label or (runs[0] if len(runs) == 1 else ""),
                 "legendgroup": label or "", "showlegend": bool(label) and label not in
                 {t["name"] for t in self.traces if t["showlegend"]},
                 "hovertemplate": text + "<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
                 "meta": {"runs": list(runs)}}
        if style:
            trace["line"] = {"color": to_hex(colour), "width": width,
                             "dash": DASHES.get(style, "solid")}
        if marker:
            trace["marker"] = {"color": to_hex(colour), "size": size + 2,
                               "symbol": SYMBOLS.get(marker, "circle")}
        self.traces.append(trace)

    def key(self, label, colour, style="-", width=1.0, marker=None):
        """A legend entry for something not drawn as such (a colour or a line style)."""
        self._legend.setdefault(label, dict(color=colour, ls=style or "none", lw=width,
                                            marker=marker, ms=5))
        xaxis, yaxis = self._axis_names(0, 0)
        trace = {"type": "scatter", "x": [None], "y": [None], "xaxis": xaxis, "yaxis": yaxis,
                 "mode": "lines" if style else "markers", "name": label, "showlegend": True,
                 "hoverinfo": "skip", "meta": {"runs": []}}
        if style:
            trace["line"] = {"color": to_hex(colour), "width": width,
                             "dash": DASHES.get(style, "solid")}
        else:
            trace["marker"] = {"color": to_hex(colour), "symbol": SYMBOLS.get(marker, "circle")}
        self.traces.append(trace)

    def panel(self, row, col, title="", xlabel="", ylabel="", xlog=False, ylog=False,
              xlim=None, ylim=None, title_colour="black", xticks=None):
        """xticks: (positions, labels) for a categorical x axis."""
        ax = self.axes[row][col]
        if xlog:
            ax.set_xscale("log")
        if ylog:
            ax.set_yscale("log")
        if xlim:
            ax.set_xlim(*xlim)
        if ylim:
            ax.set_ylim(*ylim)
        if xticks:
            ax.set_xticks(xticks[0])
            ax.set_xticklabels(xticks[1], rotation=20, ha="right")
        ax.set_title(title, color=title_colour)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both" if (xlog or ylog) else "major", alpha=0.3)
        self.panels[(row, col)] = dict(title=title, xlabel=xlabel, ylabel=ylabel, xlog=xlog,
                                       ylog=ylog, xlim=xlim, ylim=ylim, xticks=xticks)

    def finish(self):
        """The static figure's legend, outside the panels on the right, and its title."""
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], label=label, **style) for label, style in self._legend.items()]
        if handles:
            self.fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5),
                            frameon=False)
        if self.title:
            self.fig.suptitle(self.title)
        self.fig.tight_layout()

    def spec(self):
        """The plotly.js figure: data and layout, the panels on a grid, the legend outside."""
        layout = {"title": {"text": self.title, "font": {"size": 14}},
                  "height": self.height, "margin": {"l": 60, "r": 20, "t": 60, "b": 50},
                  "hovermode": "closest", "showlegend": True,
                  "legend": {"x": 1.02, "y": 1, "xanchor": "left", "font": {"size": 10}},
                  "template": {"layout": {"plot_bgcolor": "white"}}, "annotations": []}
        gap_x, gap_y = (0.14 if self.cols <= 2 else 0.06), (0.12 if self.rows > 1 else 0.0)
        width = (1 - gap_x * (self.cols - 1)) / self.cols
        height = (1 - gap_y * (self.rows - 1)) / self.rows
        for row in range(self.rows):
            for col in range(self.cols):
                p = self.panels.get((row, col), {})
                n = row * self.cols + col + 1
                suffix = "" if n == 1 else str(n)
                x0 = col * (width + gap_x)
                y1 = 1 - row * (height + gap_y)
                xaxis = {"domain": [_fraction(x0), _fraction(x0 + width)], "anchor": f"y{suffix}",
                         "title": {"text": p.get("xlabel", "")}, "type":
                         "log" if p.get("xlog") else "linear", "showline": True,
                         "gridcolor": "#e5e5e5", "zeroline": False}
                # A row's panels that share the y label of the one on their left show none:
                # beside a narrow panel it would cover its neighbour.
                left = self.panels.get((row, col - 1), {}).get("ylabel") if col else None
                ylabel = "" if left == p.get("ylabel") else p.get("ylabel", "")
                yaxis = {"domain": [_fraction(y1 - height), _fraction(y1)], "anchor": f"x{suffix}",
                         "title": {"text": ylabel}, "type":
                         "log" if p.get("ylog") else "linear", "showline": True,
                         "gridcolor": "#e5e5e5", "zeroline": False,
                         "exponentformat": "power"}
                for axis, limits, log in ((xaxis, p.get("xlim"), p.get("xlog")),
                                          (yaxis, p.get("ylim"), p.get("ylog"))):
                    if limits:
                        axis["range"] = [math.log10(v) if log else v for v in limits]
                if p.get("xticks"):
                    xaxis["tickvals"], xaxis["ticktext"] = map(list, p["xticks"])
                layout[f"xaxis{suffix}"] = xaxis
                layout[f"yaxis{suffix}"] = yaxis
                if p.get("title"):
                    layout["annotations"].append({
                        "text": p["title"].replace("\n", "<br>"), "showarrow": False,
                        "xref": "paper",
                        "yref": "paper", "x": x0 + width / 2, "y": y1, "yanchor": "bottom",
                        "xanchor": "center", "font": {"size": 12}})
        return {"data": self.traces, "layout": layout}

    def save(self, folder, stem):
        """PNG and SVG of the static figure; returns (png, svg, spec) for the Result, spec None
        for a figure of more than MAX_RUNS runs."""
        self.finish()
        png, svg = f"{stem}.png", f"{stem}.svg"
        for name in (png, svg):
            self.fig.savefig(os.path.join(folder, name), bbox_inches="tight",
                             metadata={"Software": None} if name == png else {"Date": None})
        plt.close(self.fig)
        runs = {run for trace in self.traces for run in trace["meta"]["runs"]}
        return png, svg, (self.spec() if len(runs) <= MAX_RUNS else None)
