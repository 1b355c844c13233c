"""Dimension collapse (THEORY 4.1): s2/s1 and the effective rank against t, naive against
orthogonal dynamics, one column per loss, with the predicted decay exp(-2(λ1-λ2)t)."""

import numpy as np
from matplotlib.lines import Line2D

from .common import DYNAMICS_COLOURS, Result, Table, plt, reached, save, short, write_csv
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


def make(sweep, folder, prefix):
    title = "Dimension collapse: s2/s1 and effective rank against t"
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

    losses = sorted({r.config["loss"] for r in runs}, key=_loss_order)
    fig, axes = plt.subplots(2, len(losses), figsize=(4.8 * len(losses), 6.4), squeeze=False,
                             sharex="col")
    rows, rate_rows, rate_classes = [], [], []
    no_spectrum = 0
    for r in runs:
        traj = r.trajectory
        keep = reached(traj)
        t, ratio, erank = traj["t"][keep], traj["s2_s1"][keep], traj["effective_rank"][keep]
        dynamics, loss = r.config["dynamics"], r.config["loss"]
        column = losses.index(loss)
        colour = DYNAMICS_COLOURS.get(dynamics, "tab:gray")
        eta = float(r.result["eta_used"])
        top, bottom = axes[0][column], axes[1][column]
        top.plot(t, ratio, color=colour, lw=0.9, alpha=0.7)
        bottom.plot(t, erank, color=colour, lw=0.9, alpha=0.7)
        if r.status == "failed":
            last = np.flatnonzero(np.isfinite(ratio))
            if len(last):
                top.plot(t[last[-1]], ratio[last[-1]], "kx", ms=7)
                bottom.plot(t[last[-1]], erank[last[-1]], "kx", ms=7)

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
                    top.plot(t[shown], predicted[shown], "k--", lw=0.8, alpha=0.6)
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
                         predicted[j]])

    for column, loss in enumerate(losses):
        top, bottom = axes[0][column], axes[1][column]
        top.set_yscale("log")
        top.set_ylim(FLOOR, 2.0)
        top.set_title(f"loss = {loss}")
        top.set_ylabel("s2 / s1")
        bottom.set_ylabel("effective rank")
        bottom.set_xlabel("t = η · step")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    present = sorted({r.config["dynamics"] for r in runs})
    handles = [Line2D([], [], color=DYNAMICS_COLOURS.get(d, "tab:gray"), label=d) for d in present]
    if rate_rows:
        handles.append(Line2D([], [], color="k", ls="--", label="predicted rate 2(λ1−λ2)"))
    if any(r.status == "failed" for r in runs):
        handles.append(Line2D([], [], color="k", marker="x", ls="", label="failed (last finite record)"))
    axes[0][0].legend(handles=handles, loc="lower left")
    fig.suptitle(f"{sweep.name}: collapse (THEORY §4.1)")
    fig.tight_layout()

    result.image = save(fig, folder, f"{prefix}collapse.png")
    header = RUN_COLUMNS + ["step", "t", "s2_s1", "effective_rank", "lambda1", "lambda2",
                            "predicted_rate", "predicted_s2_s1"]
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
            rate_classes))
    if no_spectrum:
        result.notes.append(f"{no_spectrum} naive runs lack spectrum/eigenvalues: no predicted rate for them")
    if "orthogonal" not in present:
        result.notes.append("no orthogonal runs in this sweep: nothing to contrast the collapse with")
    if not any(d != "orthogonal" for d in present):
        result.notes.append("no naive runs in this sweep: no collapse, no predicted rate")
    result.caption = (
        "One line per run, coloured by dynamics; top s2/s1 (log scale), bottom the effective "
        "rank. Dashed: the predicted decay s2/s1 ∝ exp(−2(λ1−λ2)t), λ from the run's "
        f"spectrum/eigenvalues, through its first record with s2/s1 ≤ {ANCHOR:g}. Naive runs "
        "collapse to effective rank 1, orthogonal runs keep rank k. Gradient descent's s2/s1 "
        "stops at round-off (about 1e-16). The measured rate is the least-squares slope of "
        f"log(s2/s1) over the records with {MEASURE_WINDOW[0]:g} ≤ s2/s1 ≤ {MEASURE_WINDOW[1]:g}; "
        "it differs from the flow's rate by O(η).")
    return result


def _loss_order(loss):
    order = {"noncontrastive": 0, "contrastive": 1}
    return (order.get(loss, 2), loss)
