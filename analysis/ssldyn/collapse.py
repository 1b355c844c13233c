"""Dimension collapse (THEORY 4.1): s2/s1 and the effective rank against t, gradient descent
against its closed-form flow, one column per dynamics and loss, runs told apart by η (colour)
and k (line style), with the predicted decay exp(-2(λ1-λ2)t), over the time where they move."""

import math

import numpy as np

from .common import (DYNAMICS_COLOURS, DYNAMICS_ORDER, Result, Table, plt, reached, short,
                     write_csv)
from .figure import Figure, RunInfo
from .stats import fit_line

# The predicted line goes through the first record with s2/s1 at most ANCHOR: late enough for
# the asymptotic rate, far above where gradient descent stops at round-off (~1e-16).
ANCHOR = 1e-3
# The measured rate fits log(s2/s1) over records inside this window, for the same reason.
MEASURE_WINDOW = (1e-12, 1e-2)
FLOOR = 1e-17  # lower edge of the s2/s1 axis

RUN_COLUMNS = ["sweep", "run_id", "dynamics", "loss", "k", "eta", "status"]


def predicted_rate(spectrum):
    """2(λ1 - λ2) from a run's eigenvalues (descending)."""
    return 2.0 * (float(spectrum[0]) - float(spectrum[1]))


def anchor(t, ratio):
    """(index) of the record the predicted line passes through, or None."""
    finite = np.flatnonzero(np.isfinite(ratio) & np.isfinite(t))
    if len(finite) == 0:
        return None
    below = finite[ratio[finite] <= ANCHOR]
    return int(below[0]) if len(below) else int(finite[-1])


def measured_rate(t, ratio):
    """-slope of log(s2/s1) against t inside MEASURE_WINDOW, and the number of records used."""
    lo, hi = MEASURE_WINDOW
    use = np.isfinite(t) & np.isfinite(ratio) & (ratio >= lo) & (ratio <= hi)
    if use.sum() < 2:
        return float("nan"), int(use.sum())
    return -fit_line(t[use], np.log(ratio[use])).slope, int(use.sum())


# The time range drawn ends where the action ends: SETTLE_MARGIN times the latest time at which
# a run's effective rank (gradient descent or flow) still moves by more than SETTLE of its span
# from its final value. s2/s1 decays for ever (on a log scale, a straight line), so it does not
# set the range; its axis goes down to the least value drawn.
SETTLE = 0.02
SETTLE_MARGIN = 1.5
K_STYLES = ("-", "--", "-.")
# The setting that sets the step size, by preference: the colour of a run is its value.
STEP_SETTINGS = ("eta_rel", "eta")


def settled_time(t, values):
    """The time after which values stay within SETTLE of their span (at least 1, the least
    drop of a collapse) from their last finite value: the first time if they never move."""
    finite = np.flatnonzero(np.isfinite(values) & np.isfinite(t))
    if len(finite) < 2:
        return float("nan")
    v = values[finite]
    span = max(np.max(v) - np.min(v), 1.0)
    away = np.flatnonzero(np.abs(v - v[-1]) > SETTLE * span)
    return float(t[finite[min(away[-1] + 1, len(finite) - 1)]]) if len(away) else float(t[finite[0]])


def action_end(curves):
    """The end of the drawn time range for curves [(t, effective rank, s2/s1)], the last t of
    all, and the least s2/s1 up to that end."""
    last = max(float(np.nanmax(t)) for t, _, _ in curves)
    settle = [settled_time(t, erank) for t, erank, _ in curves]
    settle = [s for s in settle if np.isfinite(s)]
    end = SETTLE_MARGIN * max(settle) if settle else last
    end = last if end <= 0 or end >= 0.8 * last else end
    least = [np.nanmin(ratio[(t <= end) & (ratio > 0)]) for t, _, ratio in curves
             if np.any((t <= end) & (ratio > 0))]
    return end, last, (float(min(least)) if least else FLOOR)


def step_setting(runs):
    """The name and a function giving each run's step size: eta_rel or eta where the sweep
    varies it, else the η the run used."""
    for key in STEP_SETTINGS:
        if len({r.config.get(key) for r in runs}) > 1:
            return key, lambda r: float(r.config[key])
    return "η", lambda r: float(r.result["eta_used"])


def step_colours(steps):
    """step size -> colour, from viridis along its log (one step size: a single colour)."""
    distinct = sorted(set(steps))
    if len(distinct) == 1:
        return {distinct[0]: "tab:blue"}
    logs = np.log(distinct)
    scale = (logs - logs.min()) / (logs.max() - logs.min())
    return {step: plt.cm.viridis(0.9 * s) for step, s in zip(distinct, scale)}


def make(sweep, folder, prefix):
    title = "Dimension collapse: s2/s1 and effective rank against t, gradient descent and flow"
    result = Result("collapse", title)
    runs = [r for r in sweep.runs() if r.status in ("done", "failed")]
    if not runs:
        result.skipped = "no finished runs in this sweep"
        return result
    lacking = [r.id for r in runs if not r.has("trajectory")]
    runs = [r for r in runs if r.has("trajectory")]
    if not runs:
        result.skipped = "the store has no trajectory/ section for any run"
        return result
    if lacking:
        result.notes.append(f"{len(lacking)} runs lack trajectory/ and are not drawn")
    if not any(np.isfinite(r.trajectory["s2_s1"]).any() for r in runs):
        result.skipped = "no run has a second singular value (k = 1?)"
        return result
    no_flow = [r.id for r in runs
               if not all(r.has("theory", m) for m in ("s2_s1", "effective_rank"))]

    columns = sorted({(r.config["dynamics"], r.config["loss"]) for r in runs},
                     key=lambda c: (DYNAMICS_ORDER.get(c[0], 9), c[0]) + _loss_order(c[1]))
    step_name, step_of = step_setting(runs)
    colours = step_colours([step_of(r) for r in runs])
    ks = sorted({r.config["k"] for r in runs}, key=lambda k: (len(k), k))
    style_of = {k: K_STYLES[i % len(K_STYLES)] for i, k in enumerate(ks)}
    figure = Figure(RunInfo(sweep), 2, len(columns),
                    (3.6 * len(columns) + 1.6, 6.0), sharex=True,
                    title=f"{sweep.name}: collapse, gradient descent against the flow "
                          "(THEORY §4.1)")
    rows, rate_rows, rate_classes, curves = [], [], [], []
    no_spectrum = 0
    for r in runs:
        traj = r.trajectory
        keep = reached(traj)
        t, ratio, erank = traj["t"][keep], traj["s2_s1"][keep], traj["effective_rank"][keep]
        nan = np.full(len(t), float("nan"))
        flow_ratio = r.theory["s2_s1"][keep] if r.id not in no_flow else nan
        flow_erank = r.theory["effective_rank"][keep] if r.id not in no_flow else nan
        dynamics, loss = r.config["dynamics"], r.config["loss"]
        column = columns.index((dynamics, loss))
        eta = float(r.result["eta_used"])
        colour, style = colours[step_of(r)], style_of[r.config["k"]]
        for row, gd, flow in ((0, ratio, flow_ratio), (1, erank, flow_erank)):
            if r.id not in no_flow:
                figure.line(row, column, t, flow, "0.6", style, width=3.0, alpha=0.5,
                            runs=[r.id], hover=f"closed-form flow of {figure.runs.describe(r.id)}")
            figure.line(row, column, t, gd, colour, style, width=1.1, runs=[r.id])
        curves += [(t, erank, ratio)]
        if r.id not in no_flow:
            curves += [(t, flow_erank, flow_ratio)]
        if r.status == "failed":
            last = np.flatnonzero(np.isfinite(ratio))
            if len(last):
                j = last[-1]
                for row, values in ((0, ratio), (1, erank)):
                    figure.line(row, column, t[j:j + 1], values[j:j + 1], "k", "", marker="x",
                                size=7, runs=[r.id], label="failed (last finite record)")

        lam1 = lam2 = rate = float("nan")
        predicted = np.full(len(t), float("nan"))
        if dynamics != "orthogonal":
            if r.spectrum is not None and len(r.spectrum) >= 2:
                lam1, lam2 = float(r.spectrum[0]), float(r.spectrum[1])
                rate = predicted_rate(r.spectrum)
                i = anchor(t, ratio)
                if i is not None:
                    with np.errstate(over="ignore"):  # far before a late anchor: inf, not drawn
                        predicted = ratio[i] * np.exp(-rate * (t - t[i]))
                    shown = predicted >= FLOOR
                    figure.line(0, column, t[shown], predicted[shown], "k", ":", width=0.8,
                                alpha=0.8, runs=[r.id], label="predicted rate 2(λ1−λ2)",
                                hover=f"predicted decay of {figure.runs.describe(r.id)}")
                measured, used = measured_rate(t, ratio)
                rate_rows.append([sweep.name, r.id, dynamics, loss, r.config["k"], eta, r.status,
                                  lam1, lam2, rate, measured, used,
                                  t[i] if i is not None else float("nan"),
                                  ratio[i] if i is not None else float("nan")])
                rate_classes.append("failed" if r.status == "failed" else "")
            else:
                no_spectrum += 1
        for j in range(len(t)):
            rows.append([sweep.name, r.id, dynamics, loss, r.config["k"], eta, r.status,
                         traj["step"][keep][j], t[j], ratio[j], erank[j], lam1, lam2, rate,
                         predicted[j], flow_ratio[j], flow_erank[j]])

    end, last, least = action_end(curves)
    bottom = max(FLOOR, 10 ** (math.floor(math.log10(least)) - 0.3))
    top_rank = max(int(k) for k in ks)  # effective rank lies in [1, k]
    for column, (dynamics, loss) in enumerate(columns):
        figure.panel(0, column, title=f"{dynamics}, {loss}", ylabel="s2 / s1", ylog=True,
                     ylim=(bottom, 2.0), xlim=(0.0, end),
                     title_colour=DYNAMICS_COLOURS.get(dynamics, "black"))
        figure.panel(1, column, xlabel="t = η · step", ylabel="effective rank", xlim=(0.0, end),
                     ylim=(0.8, top_rank + 0.2))
    for step in sorted(colours):
        figure.key(f"{step_name} = {short(step)}", colours[step], "-", width=1.5)
    for k in ks:
        figure.key(f"k = {k}", "k", style_of[k], width=1.1)
    if len(no_flow) < len(runs):
        figure.key("closed-form flow (grey)", "0.6", "-", width=3.0)
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}collapse")
    header = RUN_COLUMNS + ["step", "t", "s2_s1", "effective_rank", "lambda1", "lambda2",
                            "predicted_rate", "predicted_s2_s1", "theory_s2_s1",
                            "theory_effective_rank"]
    result.files.append(write_csv(folder, f"{prefix}collapse.csv", header, rows))
    rate_header = RUN_COLUMNS + ["lambda1", "lambda2", "predicted_rate", "measured_rate",
                                 "measured_points", "anchor_t", "anchor_s2_s1"]
    if rate_rows:
        result.files.append(write_csv(folder, f"{prefix}collapse_rates.csv", rate_header, rate_rows))
        result.tables.append(Table(
            "Collapse rate of s2/s1, predicted 2(λ1−λ2) against measured (gradient descent)",
            ["run", "dynamics", "loss", "k", "η", "status", "λ1", "λ2", "predicted", "measured",
             "records"],
            [[row[1], row[2], row[3], row[4], short(row[5]), row[6], short(row[7]), short(row[8]),
              short(row[9]), short(row[10]), row[11]] for row in rate_rows],
            rate_classes, run_column=0))
    if no_flow:
        result.notes.append(f"{len(no_flow)} runs lack the flow's theory/s2_s1 or "
                            "theory/effective_rank: gradient descent only for them")
    if no_spectrum:
        result.notes.append(f"{no_spectrum} naive runs lack spectrum/eigenvalues: no predicted rate for them")
    present = {d for d, _ in columns}
    if "orthogonal" not in present:
        result.notes.append("no orthogonal runs in this sweep: nothing to contrast the collapse with")
    if not any(d != "orthogonal" for d in present):
        result.notes.append("no naive runs in this sweep: no collapse, no predicted rate")
    shown = (f"t from 0 to {end:.3g}, {SETTLE_MARGIN:g} times the latest time at which a run's "
             f"effective rank still moves by more than {SETTLE:.0%} of its span "
             f"(the records go on to t = {last:.3g}: zoom out on the interactive figure, or "
             "read the CSV)") if end < last else f"t from 0 to the last record, {last:.3g}"
    result.caption = (
        "One column per dynamics and loss; top s2/s1 (log scale), bottom the effective rank. "
        f"Gradient descent: one line per run, coloured by its step size ({step_name}), line "
        "style by k; "
        "underneath, thick and grey in the same style, the closed-form flow of that run "
        "(THEORY §4.1–4.2, the store's theory/ series). Dotted black: the predicted decay "
        "s2/s1 ∝ exp(−2(λ1−λ2)t), λ from the run's spectrum/eigenvalues, through its first "
        f"record with s2/s1 ≤ {ANCHOR:g}. Naive runs collapse to effective rank 1, orthogonal "
        "runs keep rank k; gradient descent's s2/s1 stops at round-off (about 1e-16), the "
        f"flow's does not. Time range: {shown}. The measured rate is the least-squares slope "
        f"of log(s2/s1) over the records with {MEASURE_WINDOW[0]:g} ≤ s2/s1 ≤ "
        f"{MEASURE_WINDOW[1]:g}; it differs from the flow's rate by O(η).")
    return result


def _loss_order(loss):
    order = {"noncontrastive": 0, "contrastive": 1}
    return (order.get(loss, 2), loss)
