"""The losses beyond the paper (THEORY §6), for a sweep that runs them: (a) the effective rank
against t per loss, naive against orthogonal dynamics (who collapses); (b) each eigen-direction
‖W vᵢ‖ against t, gradient descent and its flow, marked at its measured and its predicted rise
time (§6.5), with a table of the two; (c) gradient descent's distance to the exact or reference
flow against t per loss; (d) BYOL and SimSiam (§6.3): the final effective rank and ‖W‖_F by
predictor and stop-gradient. Each maker returns None for a sweep without such runs, so a
sweep of the paper's losses has no figure of this section."""

import math

import numpy as np

from .collapse import K_STYLES
from .common import DYNAMICS_COLOURS, DYNAMICS_ORDER, Result, Table, plt, reached, short, write_csv
from .figure import Figure, RunInfo

LOSSES = ("spectral_contrastive", "barlow_twins", "infonce", "byol", "simsiam")
PREDICTOR_LOSSES = ("byol", "simsiam")
TITLE = "Other losses (THEORY §6): "
# A run whose final s₂/s₁ is below this has collapsed to (about) one dimension: far below the
# ratios of the eigenvalues of any spectrum drawn here, whose square roots a non-collapsed
# fixed point keeps (§6.1–6.2).
COLLAPSED = 1e-3
MODE_PANELS = 16  # the rise-time figure draws at most this many runs (the CSV holds all)
MODE_COLUMNS = 4
# The rise-time predictions of §6.1–6.2 are for small starts: rows' norm at most this (the
# default Gaussian start, 1/√d per entry, has rows of norm 1).
SMALL_START = 0.1
# A mode has saturated when its last recorded ‖W vᵢ‖² is within this of its values at the
# SATURATION_RECORDS records before (relative): the logistic rise of §6.1–6.2 is then within a
# few per cent of its end, and the half-point of the last value is that of the rise.
SATURATION_TOLERANCE = 0.02
SATURATION_RECORDS = 5
# (predictor, stop_gradient) of §6.3 in the order of the figure's x axis
CASES = (("linear", "true"), ("identity", "true"), ("linear", "false"), ("identity", "false"))
LOSS_MARKERS = {"byol": "o", "simsiam": "s"}
LOSS_STYLES = {"byol": "-", "simsiam": "--"}


def _runs(sweep, losses, section="trajectory", name=None):
    """Finished runs of the losses that have the section (and its dataset name)."""
    return [r for r in sweep.runs() if r.status in ("done", "failed")
            and r.config.get("loss") in losses and r.has(section, name)]


def _loss_order(runs):
    return [loss for loss in LOSSES if any(r.config["loss"] == loss for r in runs)]


def _others(sweep, runs, shown=("loss", "dynamics", "data")):
    """The settings that vary among runs besides those shown (by colour, column or row): what
    tells apart the lines of one panel."""
    return [key for key in RunInfo(sweep).varying if key not in shown
            and len({r.config.get(key) for r in runs}) > 1]


def _label(run, keys):
    return ", ".join(f"{key} = {run.config[key]}" for key in keys)


def _styles(runs, keys):
    """label of the other settings -> line style, in the order of first appearance."""
    labels = list(dict.fromkeys(_label(r, keys) for r in runs))
    return {label: K_STYLES[i % len(K_STYLES)] if i < len(K_STYLES) else ":"
            for i, label in enumerate(labels)}


def _data_rows(runs):
    return list(dict.fromkeys(r.config.get("data", "") for r in runs))


def _per_loss_figure(sweep, runs, title, size_per_panel=(3.4, 2.6)):
    """A figure of one column per loss and one row per data source."""
    losses, data = _loss_order(runs), _data_rows(runs)
    figure = Figure(RunInfo(sweep), len(data), len(losses),
                    (size_per_panel[0] * len(losses) + 2.4, size_per_panel[1] * len(data) + 0.8),
                    sharex=False, title=title)
    return figure, losses, data


def _finish_per_loss(figure, runs, losses, data, styles, **panel):
    """The panels of a per-loss figure titled and labelled, and its legend: the colours of the
    dynamics and the line styles of the other settings."""
    for row, source in enumerate(data):
        for col, loss in enumerate(losses):
            figure.panel(row, col, title=f"{loss}, {source}" if len(data) > 1 else loss,
                         xlabel="t = η · step" if row == len(data) - 1 else "", **panel)
    for dynamics in sorted({r.config["dynamics"] for r in runs},
                           key=lambda d: DYNAMICS_ORDER.get(d, 9)):
        figure.key(dynamics, DYNAMICS_COLOURS.get(dynamics, "tab:gray"), "-", width=1.5)
    for label, style in styles.items():
        if label:
            figure.key(label, "k", style, width=1.1)


def ranks(sweep, folder, prefix):
    """(a) effective rank against t per loss, naive against orthogonal."""
    runs = _runs(sweep, LOSSES, "trajectory", "effective_rank")
    if not runs:
        return None
    result = Result("losses_rank", TITLE + "effective rank against t, naive against orthogonal")
    keys = _others(sweep, runs)
    styles = _styles(runs, keys)
    figure, losses, data = _per_loss_figure(
        sweep, runs, f"{sweep.name}: effective rank per loss (THEORY §6, §4.1)")
    rows, final_rows, classes = [], [], []
    for r in sorted(runs, key=lambda r: (DYNAMICS_ORDER.get(r.config["dynamics"], 9), r.row)):
        traj = r.trajectory
        keep = reached(traj)
        t, erank = traj["t"][keep], traj["effective_rank"][keep]
        flow = (r.theory["effective_rank"][keep] if r.has("theory", "effective_rank")
                else np.full(len(t), math.nan))
        dynamics, label = r.config["dynamics"], _label(r, keys)
        row, col = data.index(r.config.get("data", "")), losses.index(r.config["loss"])
        figure.line(row, col, t, erank, DYNAMICS_COLOURS.get(dynamics, "tab:gray"),
                    styles[label], width=1.2, runs=[r.id])
        for n in range(len(t)):
            rows.append([sweep.name, r.id, r.config["loss"], dynamics, r.config.get("data", ""),
                         r.config["k"], label, r.status, traj["step"][keep][n], t[n], erank[n],
                         flow[n]])
        final = float(r.result["final_effective_rank"])
        ratio = float(r.result.get("final_s2_s1", math.nan))
        collapsed = bool(ratio < COLLAPSED)
        final_rows.append([sweep.name, r.id, r.config["loss"], dynamics, r.config.get("data", ""),
                           r.config["k"], label, r.status, final,
                           float(r.result.get("theory_final_effective_rank", math.nan)),
                           float(r.result.get("min_effective_rank", math.nan)), ratio,
                           collapsed])
        classes.append("failed" if r.status == "failed" else "flagged" if collapsed else "")
    top = max(int(r.config["k"]) for r in runs)
    _finish_per_loss(figure, runs, losses, data, styles, ylabel="effective rank",
                     ylim=(0.8, top + 0.2))
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}losses_rank")
    result.files.append(write_csv(
        folder, f"{prefix}losses_rank.csv",
        ["sweep", "run_id", "loss", "dynamics", "data", "k", "settings", "status", "step", "t",
         "effective_rank", "theory_effective_rank"], rows))
    final_header = ["sweep", "run_id", "loss", "dynamics", "data", "k", "settings", "status",
                    "final_effective_rank", "theory_final_effective_rank",
                    "min_effective_rank", "final_s2_s1", "collapsed"]
    result.files.append(write_csv(folder, f"{prefix}losses_rank_final.csv", final_header,
                                  final_rows))
    result.tables.append(Table(
        f"Final effective rank per run; highlighted: collapsed (final s2/s1 < {COLLAPSED:g})",
        ["run", "loss", "dynamics", "data", "k", "settings", "status", "effective rank",
         "flow's", "least", "s2/s1", "collapsed"],
        [[row[1], row[2], row[3], row[4], row[5], row[6], row[7], short(row[8]), short(row[9]),
          short(row[10]), short(row[11]), "yes" if row[12] else "no"] for row in final_rows],
        classes, run_column=0))
    collapsed = sorted({(row[2], row[3]) for row in final_rows if row[12]})
    result.notes.append("collapsed: " + (", ".join(f"{loss} {dyn}" for loss, dyn in collapsed)
                                         if collapsed else "no run"))
    result.caption = (
        "Gradient descent's effective rank exp(−Σ pᵢ log pᵢ), pᵢ = sᵢ/Σ sⱼ, against t: one "
        "column per loss of THEORY §6, one row per data source; colour: dynamics; line style: "
        "the other settings that vary. The losses of §6 are invariant under W → QW and their "
        "fixed points keep k directions (§6.1–6.2: the best rank-k approximation of C, or a "
        "whitened representation), so naive dynamics need not collapse as under the paper's "
        "losses (§4.1); BYOL and SimSiam collapse to zero rather than to one dimension, which "
        "‖W‖_F shows (the predictor figure). The table: final values per run and the flow's "
        f"(the store's theory/ series); collapsed means a final s2/s1 below {COLLAPSED:g}.")
    return result


def _smallness(run):
    """How far below 1 the run starts along its eigen-directions: −log10 of its largest
    ‖W₀vᵢ‖ (NaN counts as 0)."""
    start = np.nanmax(np.abs(run.trajectory["modes"][0])) if len(run.trajectory["modes"]) else 1
    return -math.log10(start) if np.isfinite(start) and start > 0 else 0.0


def _wrapped(text, width=48):
    """A panel title in lines of at most about width characters, broken at commas."""
    lines = [""]
    for part in text.split(", "):
        if lines[-1] and len(lines[-1]) + len(part) + 2 > width:
            lines.append(part)
        else:
            lines[-1] = f"{lines[-1]}, {part}" if lines[-1] else part
    return "\n".join(lines)


def _at(t, values, when):
    """values at time when, linear between records; NaN outside them or where not finite."""
    finite = np.isfinite(t) & np.isfinite(values)
    if not np.isfinite(when) or finite.sum() < 2:
        return math.nan
    t, values = t[finite], values[finite]
    if when < t[0] or when > t[-1]:
        return math.nan
    return float(np.interp(when, t, values))


def _small_start(run, d):
    """Whether the run starts small, where the rise times of §6.1–6.2 are derived: init_scale
    set and its rows' norm (Gaussian: about init_scale·√d) at most SMALL_START."""
    scale = float(run.config.get("init_scale", 0))
    return 0 < scale * math.sqrt(d) <= SMALL_START


def _not_applicable(run, d):
    """Why the rise-time predictions of §6.1–6.2 do not apply to the run as a whole, or ''."""
    if run.config.get("dynamics") != "naive" or float(run.config.get("weight_decay", 0)) != 0:
        return "dynamics"  # §6.1–6.2: the naive flow without weight decay
    if not _small_start(run, d):
        return "ordinary start"
    if run.config["loss"] == "spectral_contrastive" and run.config.get("whiten") != "true":
        return "not whitened"  # §6.1: the closed form needs Σ = I
    return ""


def saturated(u):
    """Whether a mode u = ‖W vᵢ‖² (per record) has levelled off: its last value finite and
    within SATURATION_TOLERANCE of it (relative) at each of the SATURATION_RECORDS records
    before. The measured rise time is the half-point of the last value, a rise only if that
    value is the end of it."""
    u = np.asarray(u, float)
    if len(u) <= SATURATION_RECORDS or not np.isfinite(u[-1]) or u[-1] == 0:
        return False
    before = u[-1 - SATURATION_RECORDS:-1]
    return bool(np.all(np.abs(before - u[-1]) <= SATURATION_TOLERANCE * abs(u[-1])))


def rise_time(t, u):
    """The rise time of THEORY §6.5 of a recorded u = ‖W vᵢ‖²: the first t at which u reaches
    half its last value, linear in u between records; the first record's t when u starts above
    it; NaN when the last value is not finite. The store holds gradient descent's; this gives
    the flow's from its recorded modes, to tell the prediction's error from the step's."""
    u = np.asarray(u, float)
    if len(u) == 0 or not np.isfinite(u[-1]):
        return math.nan
    above = np.flatnonzero(u >= u[-1] / 2)
    j = above[0]
    if j == 0:
        return float(t[0])
    return float(t[j - 1] + (u[-1] / 2 - u[j - 1]) * (t[j] - t[j - 1]) / (u[j] - u[j - 1]))


def modes(sweep, folder, prefix):
    """(b) ‖W vᵢ‖ against t with the measured and the predicted rise time, and their table."""
    runs = [r for r in _runs(sweep, LOSSES, "trajectory", "modes")
            if "rise_time_predicted" in r.components
            and np.isfinite(r.components["rise_time_predicted"]).any()]
    if not runs:
        return None
    result = Result("losses_modes", TITLE + "eigen-directions and their rise times")
    keys = _others(sweep, runs, shown=("loss", "data"))
    table_rows, classes, applies = [], [], {}
    for r in runs:
        measured = np.asarray(r.components["rise_time"], float)
        predicted = np.asarray(r.components["rise_time_predicted"], float)
        spectrum = r.spectrum if r.spectrum is not None else np.full(len(measured), math.nan)
        traj = r.trajectory
        keep = reached(traj)
        gd = traj["modes"][keep]
        flow = (r.theory["modes"][keep] if r.has("theory", "modes")
                else np.full(gd.shape, math.nan))
        whole = _not_applicable(r, len(spectrum) if r.spectrum is not None
                                else float(r.config["d"]))
        applies[r.id] = []
        for i in range(len(measured)):
            reason = whole or ("not saturated" if not saturated(gd[:, i] ** 2) else
                               "" if np.isfinite(predicted[i]) and predicted[i] > 0
                               else "no prediction")
            applies[r.id].append(not reason)
            relative = (measured[i] - predicted[i]) / predicted[i] if not reason else math.nan
            flow_time = rise_time(traj["t"][keep], flow[:, i] ** 2)
            flow_relative = (flow_time - predicted[i]) / predicted[i] if not reason else math.nan
            table_rows.append([sweep.name, r.id, r.config["loss"], r.config.get("data", ""),
                               _label(r, keys), r.status, i + 1, float(spectrum[i]),
                               float(gd[0, i]), predicted[i], measured[i], not reason, reason,
                               relative, flow_time, flow_relative])
            classes.append("failed" if r.status == "failed"
                           else "inapplicable" if reason else "")
    # Drawn first: the runs the predictions apply to, then naive dynamics from the smallest
    # start.
    drawn = sorted(runs, key=lambda r: (not any(applies[r.id]), r.config["dynamics"] != "naive",
                                        -_smallness(r), r.row))[:MODE_PANELS]
    cols = min(MODE_COLUMNS, len(drawn))
    panel_rows = math.ceil(len(drawn) / cols)
    figure = Figure(RunInfo(sweep), panel_rows, cols, (3.3 * cols + 2.0, 2.7 * panel_rows + 0.8),
                    title=f"{sweep.name}: ‖W vᵢ‖ per eigen-direction, rise times (THEORY §6.5)")
    colours = plt.cm.tab10(np.arange(10))
    curve_rows = []
    for n, r in enumerate(drawn):
        row, col = divmod(n, cols)
        traj = r.trajectory
        keep = reached(traj)
        t, gd = traj["t"][keep], traj["modes"][keep]
        flow = r.theory["modes"][keep] if r.has("theory", "modes") else np.full(gd.shape, math.nan)
        measured = r.components["rise_time"]
        predicted = r.components["rise_time_predicted"]
        for i in range(gd.shape[1]):
            colour = colours[i % 10]
            figure.line(row, col, t, flow[:, i], colour, "--", width=2.2, alpha=0.45, runs=[r.id],
                        hover=f"flow, mode {i + 1} of {figure.runs.describe(r.id)}")
            figure.line(row, col, t, gd[:, i], colour, "-", width=1.1, runs=[r.id],
                        label=f"mode {i + 1}")
            # u = ‖W vᵢ‖² is half its last value at the measured rise time: ‖W vᵢ‖ there.
            figure.line(row, col, [measured[i]], [_at(t, gd[:, i], measured[i])], colour, "",
                        marker="o", size=6, runs=[r.id])
            if applies[r.id][i]:
                figure.line(row, col, [predicted[i]], [_at(t, flow[:, i], predicted[i])
                                                       if r.has("theory", "modes")
                                                       else _at(t, gd[:, i], predicted[i])],
                            colour, "", marker="D", size=6, runs=[r.id])
            for j in range(len(t)):
                curve_rows.append([sweep.name, r.id, i + 1, traj["step"][keep][j], t[j],
                                   gd[j, i], flow[j, i]])
        figure.panel(row, col, title=_wrapped(", ".join(filter(None, (
                         r.config["loss"], r.config.get("data"), _label(r, keys))))),
                     xlabel="t = η · step" if row == panel_rows - 1 else "",
                     ylabel="‖W vᵢ‖" if col == 0 else "", ylog=True)
    for n in range(len(drawn), panel_rows * cols):  # an empty slot of the last row
        figure.ax(*divmod(n, cols)).set_visible(False)
    figure.key("gradient descent", "k", "-", width=1.1)
    figure.key("flow (exact or reference)", "0.5", "--", width=2.2)
    figure.key("measured rise time", "k", "", marker="o")
    figure.key("predicted rise time", "k", "", marker="D")
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}losses_modes")
    result.files.append(write_csv(folder, f"{prefix}losses_modes.csv",
                                  ["sweep", "run_id", "mode", "step", "t", "gd_mode",
                                   "theory_mode"], curve_rows))
    header = ["sweep", "run_id", "loss", "data", "settings", "status", "mode", "lambda",
              "initial_mode", "rise_time_predicted", "rise_time", "applies", "not_applicable",
              "relative_deviation", "flow_rise_time", "flow_relative_deviation"]
    result.files.append(write_csv(folder, f"{prefix}losses_rise_times.csv", header, table_rows))
    result.tables.append(Table(
        "Rise time per eigen-direction: predicted (THEORY §6.1–6.2) against measured (§6.5); "
        "n/a (greyed): the prediction does not apply",
        ["run", "loss", "data", "settings", "status", "mode i", "λᵢ", "‖W₀vᵢ‖", "predicted",
         "measured", "(measured − predicted)/predicted", "flow's", "(flow's − predicted)/predicted",
         "n/a because"],
        [[row[1], row[2], row[3], row[4], row[5], row[6], short(row[7]), short(row[8]),
          short(row[9]) if row[11] else "n/a", short(row[10]),
          short(row[13]) if row[11] else "n/a", short(row[14]),
          short(row[15]) if row[11] else "n/a", row[12]] for row in table_rows],
        classes, run_column=0))
    applicable = [row for row in table_rows if row[11]]
    note = (f"rise times: the prediction applies to {len(applicable)} of {len(table_rows)} "
            "modes")
    for name, column in (("measured", 13), ("flow's", 15)):
        deviations = np.array([row[column] for row in applicable])
        if len(deviations):
            note += (f"; ({name} − predicted)/predicted from {deviations.min():+.3g} to "
                     f"{deviations.max():+.3g}, median |·| {np.median(np.abs(deviations)):.3g}")
    result.notes.append(note)
    if len(runs) > len(drawn):
        result.notes.append(f"the figure draws {len(drawn)} of the {len(runs)} runs with a "
                            "predicted rise time (naive dynamics and the smallest starts first); "
                            f"{prefix}losses_rise_times.csv and the table hold all")
    result.caption = (
        "Runs with a predicted rise time (spectral contrastive, Barlow Twins): ‖W vᵢ‖ against t "
        "for each eigenvector vᵢ of C (eigenvalues descending), gradient descent (solid) and "
        "the flow (dashed, the store's theory/modes). Circle: the measured rise time, the first "
        "t at which ‖W vᵢ‖² of gradient descent reaches half its last value; diamond: the "
        "predicted one, ln(λᵢ/ε²)/(8λᵢ) (spectral contrastive, §6.1) or ln(1/(λᵢε²))/(8λᵢ) "
        "(Barlow Twins, §6.2), ε = |rᵢᵢ| of the QR factorisation of W₀[v₁ … v_k] (the part of "
        "W₀vᵢ orthogonal to the earlier modes' directions; ‖W₀vᵢ‖, in the table, for an "
        "aligned start), drawn on the flow's curve, only where "
        "it applies. It applies (§6.1–6.2, §6.5) to naive dynamics without weight decay from a "
        f"small start (init_scale set, rows' norm init_scale·√d at most {SMALL_START:g}; exact "
        "to O(ε²) along the eigenvectors, init = aligned), for the spectral contrastive loss "
        "only on whitened inputs (whiten = true: Σ = I), and to a mode that has saturated: "
        f"its ‖W vᵢ‖² at the last record within {SATURATION_TOLERANCE:.0%} of its value at "
        f"each of the {SATURATION_RECORDS} records before, so that half its last value is the "
        "half-point of the finished rise. Elsewhere the table shows n/a and the reason "
        "(dynamics, ordinary start, not whitened, not saturated), and the deviations' summary "
        "leaves the row out. The flow's rise time is the same measure on the flow's recorded "
        "modes: where the flow is the exact one of §6.1–6.2 it meets the prediction up to "
        "O(ε²) and the records' interpolation, and gradient descent's deviation from it is "
        "the step's, O(ηλᵢ) (a step multiplies u by (1 + 4ηλᵢ)² where the flow's factor is "
        "e^{8ηλᵢ}).")
    return result


def gd_flow(sweep, folder, prefix):
    """(c) gradient descent's distance to the exact or reference flow against t, per loss."""
    runs = _runs(sweep, LOSSES, "trajectory", "theory_distance")
    if not runs:
        return None
    result = Result("losses_flow", TITLE + "gradient descent against the exact or reference "
                    "flow")
    keys = _others(sweep, runs)
    styles = _styles(runs, keys)
    figure, losses, data = _per_loss_figure(
        sweep, runs, f"{sweep.name}: distance of gradient descent to its flow (THEORY §6)")
    rows, final_rows = [], []
    for r in runs:
        traj = r.trajectory
        keep = reached(traj)
        t, distance = traj["t"][keep], traj["theory_distance"][keep]
        dynamics, label = r.config["dynamics"], _label(r, keys)
        row, col = data.index(r.config.get("data", "")), losses.index(r.config["loss"])
        later = t > 0  # at t = 0 both start equal: the distance is round-off or 0
        figure.line(row, col, t[later], distance[later],
                    DYNAMICS_COLOURS.get(dynamics, "tab:gray"), styles[label], width=1.1,
                    runs=[r.id])
        for n in range(len(t)):
            rows.append([sweep.name, r.id, r.config["loss"], dynamics, r.config.get("data", ""),
                         label, float(r.result["eta_used"]), traj["step"][keep][n], t[n],
                         distance[n]])
        final_rows.append([r.id, r.config["loss"], dynamics, r.config.get("data", ""), label,
                           short(float(r.result["eta_used"])), r.status,
                           short(float(r.result["final_theory_distance"])),
                           short(float(r.result["max_theory_distance"]))])
    _finish_per_loss(figure, runs, losses, data, styles, ylabel="distance to the flow",
                     ylog=True)
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}losses_flow")
    result.files.append(write_csv(
        folder, f"{prefix}losses_flow.csv",
        ["sweep", "run_id", "loss", "dynamics", "data", "settings", "eta", "step", "t",
         "theory_distance"], rows))
    result.tables.append(Table(
        "Distance to the flow at the last record and its largest over the records",
        ["run", "loss", "dynamics", "data", "settings", "η", "status", "final", "largest"],
        final_rows, [], run_column=0))
    result.caption = (
        "The store's theory_distance against t (log scale): ‖WᵀW − P_flow‖_F/‖P_flow‖_F of "
        "naive runs, ‖P − P_flow‖_F of orthogonal ones, ‖θ − θ_flow‖_F/‖θ_flow‖_F for BYOL and "
        "SimSiam (THEORY §5, §6.3). The flow is the exact one where §6.1–6.2 give it (the "
        "spectral contrastive loss with Σ = I, Barlow Twins from an aligned start, naive "
        "dynamics), else the reference flow of §4.3 integrated to reference_tolerance; InfoNCE "
        "always has the reference flow (§6.4). Gradient descent stays O(η) from it; the "
        "sections above draw the losses and angles beside their flow and, for runs that differ "
        "only in the step, the error against η.")
    return result


def _frobenius(singular_values):
    """‖W‖_F per record from its singular values (NaN beyond k)."""
    return np.sqrt(np.nansum(np.asarray(singular_values, float) ** 2, axis=1))


def predictor(sweep, folder, prefix):
    """(d) BYOL and SimSiam: final effective rank and ‖W‖_F by predictor × stop-gradient."""
    runs = _runs(sweep, PREDICTOR_LOSSES, "trajectory", "singular_values")
    if not runs:
        return None
    result = Result("losses_predictor", TITLE + "BYOL and SimSiam, predictor and "
                    "stop-gradient")
    cases = [c for c in CASES if any((r.config.get("predictor"), r.config.get("stop_gradient"))
                                     == c for r in runs)]
    cases += sorted({(r.config.get("predictor"), r.config.get("stop_gradient"))
                     for r in runs} - set(cases))
    names = [f"{p}, {'stop-grad' if s == 'true' else 'no stop-grad'}" for p, s in cases]
    colours = {case: plt.cm.tab10(n % 10) for n, case in enumerate(cases)}
    figure = Figure(RunInfo(sweep), 1, 3, (14.0, 3.8),
                    title=f"{sweep.name}: BYOL and SimSiam by predictor and stop-gradient "
                          "(THEORY §6.3)")
    rows, table_rows, curve_rows = [], [], []
    for r in runs:
        case = (r.config.get("predictor"), r.config.get("stop_gradient"))
        traj = r.trajectory
        keep = reached(traj)
        t = traj["t"][keep]
        norm = _frobenius(traj["singular_values"][keep])
        ratio = norm / norm[0]
        loss, colour, x = r.config["loss"], colours[case], cases.index(case)
        figure.line(0, 0, t, ratio, colour, LOSS_STYLES.get(loss, ":"), width=1.2, runs=[r.id],
                    label=names[x])
        final_rank = float(r.result["final_effective_rank"])
        offset = 0.08 * (PREDICTOR_LOSSES.index(loss) - 0.5)  # byol and simsiam side by side
        figure.line(0, 1, [x + offset], [final_rank], colour, "",
                    marker=LOSS_MARKERS.get(loss, "^"), size=7, runs=[r.id])
        figure.line(0, 2, [x + offset], [ratio[-1]], colour, "",
                    marker=LOSS_MARKERS.get(loss, "^"), size=7, runs=[r.id])
        values = [float(r.result.get(c, math.nan)) for c in (
            "initial_predictor_offdiagonal", "final_predictor_offdiagonal",
            "final_predictor_norm")]
        rows.append([sweep.name, r.id, loss, case[0], case[1], r.status, final_rank,
                     float(ratio[-1])] + values)
        table_rows.append([r.id, loss, case[0], case[1], r.status, short(final_rank),
                           short(float(ratio[-1]))] + [short(v) for v in values])
        for j in range(len(t)):
            curve_rows.append([sweep.name, r.id, traj["step"][keep][j], t[j], norm[j],
                               ratio[j]])
    ticks = (list(range(len(cases))), names)
    figure.panel(0, 0, title="‖W‖_F / ‖W₀‖_F against t", xlabel="t = η · step",
                 ylabel="‖W‖_F / ‖W₀‖_F", ylog=True)
    top = max(int(r.config["k"]) for r in runs)
    figure.panel(0, 1, title="final effective rank", ylabel="effective rank",
                 ylim=(0.8, top + 0.2), xlim=(-0.5, len(cases) - 0.5), xticks=ticks)
    figure.panel(0, 2, title="final ‖W‖_F / ‖W₀‖_F", ylabel="‖W‖_F / ‖W₀‖_F", ylog=True,
                 xlim=(-0.5, len(cases) - 0.5), xticks=ticks)
    for loss in _loss_order(runs):
        figure.key(loss, "k", LOSS_STYLES.get(loss, ":"), width=1.2,
                   marker=LOSS_MARKERS.get(loss, "^"))
    result.image, result.svg, result.interactive = figure.save(folder,
                                                               f"{prefix}losses_predictor")
    header = ["sweep", "run_id", "loss", "predictor", "stop_gradient", "status",
              "final_effective_rank", "frobenius_ratio", "initial_predictor_offdiagonal",
              "final_predictor_offdiagonal", "final_predictor_norm"]
    result.files.append(write_csv(folder, f"{prefix}losses_predictor.csv", header, rows))
    result.files.append(write_csv(folder, f"{prefix}losses_predictor_norm.csv",
                                  ["sweep", "run_id", "step", "t", "frobenius_norm",
                                   "frobenius_ratio"], curve_rows))
    result.tables.append(Table(
        "Final effective rank and ‖W‖_F/‖W₀‖_F by predictor and stop-gradient",
        ["run", "loss", "predictor", "stop_gradient", "status", "effective rank",
         "‖W‖_F/‖W₀‖_F", "W_p off-diagonal (start)", "(end)", "‖W_p‖_F"],
        table_rows, ["failed" if r[4] == "failed" else "" for r in table_rows], run_column=0))
    result.caption = (
        "BYOL and SimSiam (THEORY §6.3): left, ‖W‖_F = (Σ sᵢ²)^½ of the online weights "
        "relative to its start against t (colour: predictor and stop-gradient; line style: "
        "loss); middle and right, the final effective rank and the final ratio per case "
        "(circle BYOL, square SimSiam). With a learned predictor and the stop-gradient the "
        "modes with s_j² ≥ 4η_wd(s_j + s'_j) survive; without the predictor or without the "
        "stop-gradient every mode decays and ‖W‖_F falls towards 0 (collapse to zero, where "
        "the effective rank of the vanishing W says little). The table adds the predictor's "
        "off-diagonal mass in the eigenbasis of F = W X Wᵀ at the start and the end (0: W_p "
        "aligned with F) and ‖W_p‖_F.")
    return result


MAKERS = (ranks, modes, gd_flow, predictor)
