"""Width studies (THEORY 4.3, 4.4): deviation from the linear limit against the hidden width
per activation, and the relative weight and kernel change against width, SSL against the
supervised baseline, per activation; each with the exponents THEORY expects drawn beside.
Both read the network/ section of two-layer runs (ssldyn.store.SECTIONS);
sweeps without two-layer runs are skipped with a note."""

import math

import numpy as np

from .common import Result, Table, plt, reached, write_csv
from .figure import Figure, RunInfo
from .overlay import SOURCE
from .store import ACTIVATION_KEY, PRECISION_KEY, SUPERVISED_MODEL, WIDTH_KEY
from .stats import fit_line

MIN_WIDTHS = 3  # a fitted exponent with an interval needs three widths or more
# The exponent of the deviation from the linear limit by activation (THEORY §4.3)
REFERENCE = {"tanh": -1.0, "erf": -1.0, "gelu": -0.5, "softplus": -0.5}


def _width_runs(sweep, series, result):
    """Finished two-layer runs with finite network/<series> and a width setting; None after a
    skip."""
    runs = [r for r in sweep.runs() if r.status in ("done", "failed")]
    if not any(r.has("network") for r in runs):
        result.skipped = "no two-layer runs (THEORY §4.3–4.4: model = two-layer) in this sweep"
        return None
    runs = [r for r in runs if all(r.has("network", s) for s in series)
            and WIDTH_KEY in r.config and all(np.isfinite(r.network[s]).any() for s in series)]
    if not runs:
        result.skipped = (f"no two-layer run has network/{', network/'.join(series)} recorded "
                          f"and a '{WIDTH_KEY}' setting")
        return None
    return runs


def _activation_group(run):
    """The group of a run in the width fits: its activation, float32 runs and overlaid sweeps
    apart."""
    group = run.config.get(ACTIVATION_KEY, "?")
    precision = run.config.get(PRECISION_KEY, "float64")
    group = group if precision == "float64" else f"{group} ({precision})"
    source = run.config.get(SOURCE)  # overlaid sweeps: each its own fit
    return group if source is None else f"{group} {source}"


def _ends(run, name):
    """(value at the first record, value at the last reached record, its t) of network/<name>."""
    side = run.network
    keep = reached(run.trajectory)[:len(side[name])] & np.isfinite(side[name])
    values = side[name][keep]
    return float(values[0]), float(values[-1]), float(run.trajectory["t"][:len(keep)][keep][-1])


def _fit_groups(points, x_index, y_index):
    """group -> LineFit of log y against log x, for groups with MIN_WIDTHS distinct widths."""
    out = {}
    for group in sorted({p[0] for p in points}):
        mine = [p for p in points if p[0] == group and p[y_index] > 0]
        if len({p[x_index] for p in mine}) >= MIN_WIDTHS:
            out[group] = fit_line(np.log([p[x_index] for p in mine]),
                                  np.log([p[y_index] for p in mine]))
    return out


def reference_exponent(group):
    """The exponent THEORY expects of a group's power law in h, or None: the deviation from the
    linear limit falls as h^-1 for odd σ (tanh, erf) and h^-1/2 for σ with σ''(0) ≠ 0 (gelu,
    softplus), relu has none (§4.3); the supervised baseline's weight and kernel change fall as
    h^-1/2, the constrained SSL runs' stay O(1) (§4.4)."""
    words = group.replace(",", " ").split()
    if "supervised" in words:
        return -0.5
    if "SSL" in words:
        return 0.0
    for activation in words:
        if activation in REFERENCE:
            return REFERENCE[activation]
    return None


def _draw(figure, column, points, fits, x_index, y_index, ylabel):
    colours = plt.cm.tab10(np.linspace(0, 1, 10))
    for n, group in enumerate(sorted({p[0] for p in points})):
        colour = colours[n % 10]
        mine = [p for p in points if p[0] == group]
        x = np.array([p[x_index] for p in mine], float)
        y = np.array([p[y_index] for p in mine], float)
        runs = [p[1] for p in mine]
        label = group
        if group in fits:
            fit = fits[group]
            label += f": h^{fit.slope:.3f} [{fit.low:.3f}, {fit.high:.3f}]" + (
                " (left panel)" if column == 0 else "")
            grid = np.geomspace(x.min(), x.max(), 20)
            figure.line(0, column, grid, np.exp(fit.intercept + fit.slope * np.log(grid)), colour,
                        "-", runs=runs, hover=f"fit, {label}<br>runs: " + ", ".join(runs))
        for run, width, value in zip(runs, x, y):
            figure.line(0, column, [width], [value], colour, "", marker="o", size=4, runs=[run],
                        label=label if column == 0 else None)
        expected = reference_exponent(group)
        positive = y > 0
        if expected is not None and positive.any():
            centre_x = math.exp(np.mean(np.log(x[positive])))
            centre_y = math.exp(np.mean(np.log(y[positive])))
            grid = np.geomspace(x.min(), x.max(), 20)
            text = f"{group}: reference h^{expected:g} (THEORY)"
            figure.line(0, column, grid, centre_y * (grid / centre_x) ** expected, colour, ":",
                        width=1.4, label=text if column == 0 else None, hover=text)
    figure.panel(0, column, xlabel="hidden width h", ylabel=ylabel, xlog=True, ylog=True)


def _fit_table(title, panels):
    rows = [[panel, group, fit.n, f"{fit.slope:.4f}", f"[{fit.low:.4f}, {fit.high:.4f}]"]
            for panel, fits in panels for group, fit in fits.items()]
    return Table(title, ["quantity", "group", "runs", "exponent", "95% interval"], rows)


def _fit_rows(sweep, panels):
    return [[sweep.name, panel, group, fit.n, fit.slope, fit.low, fit.high, fit.stderr,
             fit.quantile, fit.intercept] for panel, fits in panels for group, fit in fits.items()]


FIT_HEADER = ["sweep", "quantity", "group", "n", "exponent", "exponent_low", "exponent_high",
              "exponent_stderr", "t_quantile", "intercept"]


def linear_limit(sweep, folder, prefix):
    result = Result("linear_limit", "Deviation from the linear limit against width")
    runs = _width_runs(sweep, ("output_deviation",), result)
    if runs is None:
        return result
    points = []
    for r in runs:
        first, last, t_last = _ends(r, "output_deviation")
        points.append([_activation_group(r), r.id, r.status, float(r.config[WIDTH_KEY]),
                       first, last, t_last])
    _two_panels(sweep, folder, prefix, result, "linear_limit", points,
                ["activation", "run_id", "status", "width", "deviation_initial",
                 "deviation_last", "t_last"],
                [("at initialisation", "‖f − f_lin‖ / ‖f_lin‖ at t = 0"),
                 ("at the last record", "‖f − f_lin‖ / ‖f_lin‖ at the last record")],
                f"{sweep.name}: distance to the linear model against width (THEORY §4.3)",
                "Fitted exponents of deviation ∝ h^b per activation")
    if result.skipped:
        return result
    result.caption = (
        "network/output_deviation of each run (its outputs on the probes against those of its "
        "linearisation σ(0) + σ′(0)u at the same weights) against the hidden width h, at "
        "initialisation and at the last record; lines: least-squares power laws per activation, "
        "exponent with a 95% interval (t distribution); dotted, through each activation's "
        "points: the slopes THEORY §4.3 estimates, h^-1/2 for gelu and softplus and h^-1 for "
        "tanh and erf (relu: no linear limit, no reference).")
    return result


def _two_panels(sweep, folder, prefix, result, name, points, header, panels_spec, title,
                fit_title):
    """Two power-law panels against width (columns 4 and 5 of points), their CSVs and fit table."""
    if len({p[3] for p in points}) < 2:
        result.skipped = "all runs have the same width: nothing to plot against h"
        return
    panels = [(label, _fit_groups(points, 3, 4 + i)) for i, (label, _) in enumerate(panels_spec)]
    figure = Figure(RunInfo(sweep), 1, 2, (12.5, 4.2), title=title)
    for i, (_, ylabel) in enumerate(panels_spec):
        _draw(figure, i, points, panels[i][1], 3, 4 + i, ylabel)
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}{name}")
    result.files.append(write_csv(folder, f"{prefix}{name}.csv", header, points))
    result.files.append(write_csv(folder, f"{prefix}{name}_fit.csv", FIT_HEADER,
                                  _fit_rows(sweep, panels)))
    result.tables.append(_fit_table(fit_title, panels))


def ntk(sweep, folder, prefix):
    result = Result("ntk", "Relative weight and kernel change against width, SSL and supervised")
    runs = _width_runs(sweep, ("weight_change", "kernel_change"), result)
    if runs is None:
        return result
    points = []
    for r in runs:
        objective = "supervised" if r.config.get("model") == SUPERVISED_MODEL else "SSL"
        points.append([f"{objective}, {_activation_group(r)}", r.id, r.status,
                       float(r.config[WIDTH_KEY]), _ends(r, "weight_change")[1],
                       _ends(r, "kernel_change")[1]])
    _two_panels(sweep, folder, prefix, result, "ntk", points,
                ["group", "run_id", "status", "width", "weight_change", "kernel_change"],
                [("weight change", "‖θ_t − θ_0‖_F / ‖θ_0‖_F"),
                 ("kernel change", "‖Θ_t − Θ_0‖_F / ‖Θ_0‖_F")],
                f"{sweep.name}: laziness against width (THEORY §4.4)",
                "Fitted exponents of change ∝ h^b")
    if result.skipped:
        return result
    if not any(p[0].startswith("supervised") for p in points):
        result.notes.append(f"no supervised baseline (model = {SUPERVISED_MODEL}) in this sweep")
    result.caption = (
        "Relative weight change and relative change of the empirical NTK at the last record "
        "against the hidden width h, per objective and activation; lines: least-squares power "
        "laws, exponent with a 95% interval; dotted: the reference slopes. Supervised training "
        "under the NTK parametrisation turns lazy (both vanish as h^-1/2, drawn through the "
        "supervised runs); under the orthogonality constraints the weight change stays O(1) "
        "(h^0, drawn through the SSL runs; THEORY §4.4).")
    return result



def linear_pair(sweep, folder, prefix):
    result = Result("linear_pair", "Distance to the paired linear run against width")
    runs = _width_runs(sweep, ("gram_deviation", "loss_deviation"), result)
    if runs is None:
        return result
    points = [[_activation_group(r), r.id, r.status, float(r.config[WIDTH_KEY]),
               _ends(r, "gram_deviation")[1], _ends(r, "loss_deviation")[1]] for r in runs]
    _two_panels(sweep, folder, prefix, result, "linear_pair", points,
                ["activation", "run_id", "status", "width", "gram_deviation", "loss_deviation"],
                [("representation Gram", "‖G − G_lin‖_F / ‖G_lin‖_F at the last record"),
                 ("loss", "|L − L_lin| / |L_lin| at the last record")],
                f"{sweep.name}: trained network against the trained linear model (THEORY §4.3)",
                "Fitted exponents of deviation ∝ h^b per activation")
    if result.skipped:
        return result
    result.caption = (
        "Each two-layer run against its paired linear run (σ replaced by σ(0) + σ′(0)u, trained "
        "from the same weights with the same steps): the Gram matrix of the probes' "
        "representations and the loss at the last record, against the hidden width h, with "
        "least-squares power laws per activation (exponent, 95% interval); dotted: the slopes "
        "of THEORY §4.3 (h^-1 for tanh and erf, h^-1/2 for gelu and softplus).")
    return result
