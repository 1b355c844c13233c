"""Simulation against the closed-form flow: loss and the largest principal angle to the top-k
eigenspace against t, gradient descent and theory on one axis, their difference on a second.

One run per (dynamics, loss): the one with the smallest step (the closest to the flow)."""

import numpy as np

from .common import (DYNAMICS_COLOURS, DYNAMICS_ORDER, DRAWABLE, Result, drawable, reached, short,
                     undrawable, write_csv)
from .figure import Figure, RunInfo

LOSS_ORDER = {"noncontrastive": 0, "contrastive": 1}
PANELS = (("loss", "loss L", False), ("topk_sin_angle", "sin of largest principal angle", True))


def representatives(runs):
    """(dynamics, loss) -> the run drawn for it: done before failed, smallest η, first row."""
    best = {}
    for r in runs:
        key = (r.config["dynamics"], r.config["loss"])
        rank = (r.status != "done", float(r.result["eta_used"]), r.row)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, r)
    order = sorted(best, key=lambda k: (DYNAMICS_ORDER.get(k[0], 9), k[0],
                                        LOSS_ORDER.get(k[1], 9), k[1]))
    return [best[k][1] for k in order]


def make(sweep, folder, prefix):
    result = Result("theory", "Simulation against the closed-form flow")
    runs = [r for r in sweep.runs() if r.status in ("done", "failed")]
    if not runs:
        result.skipped = "no finished runs in this sweep"
        return result
    usable = [r for r in runs if r.has("trajectory") and r.has("theory")]
    if not usable:
        result.skipped = "the store has no theory/ section (the closed-form flow) for any run"
        return result
    if len(usable) < len(runs):
        result.notes.append(f"{len(runs) - len(usable)} runs lack trajectory/ or theory/")
    chosen = representatives(usable)

    figure = Figure(RunInfo(sweep), len(chosen), 2, (12, 2.6 * len(chosen)),
                    title=f"{sweep.name}: gradient descent against the exact flow")
    rows, diverged = [], []
    for i, r in enumerate(chosen):
        traj, theory = r.trajectory, r.theory
        keep = reached(traj)
        t = traj["t"][keep]
        colour = DYNAMICS_COLOURS.get(r.config["dynamics"], "tab:gray")
        eta = float(r.result["eta_used"])
        columns = []
        for j, (name, label, log) in enumerate(PANELS):
            gd, flow = traj[name][keep], theory[name][keep]
            with np.errstate(invalid="ignore", over="ignore"):  # inf − inf of a diverged run
                diff = gd - flow
            columns += [gd, flow, diff]
            if any(undrawable(c) for c in (gd, flow, diff)) and r.id not in diverged:
                diverged.append(r.id)
            figure.line(i, j, t, gd, colour, "-", width=1.2, runs=[r.id])
            figure.line(i, j, t, flow, "k", "--", runs=[r.id],
                        hover=f"closed-form flow of {figure.runs.describe(r.id)}")
            # The difference on a second axis of the static figure (and in the CSV).
            twin = figure.ax(i, j).twinx()
            twin.plot(t, drawable(diff), color="tab:gray", ls=":", lw=1.2)
            twin.set_ylabel("GD − theory", color="tab:gray")
            twin.tick_params(axis="y", colors="tab:gray")
            failed = " — FAILED" if r.status == "failed" else ""
            figure.panel(i, j, title=f"{r.config['dynamics']}, {r.config['loss']}, "
                                     f"k = {r.config['k']}, η = {short(eta)}{failed}",
                         ylabel=label, ylog=log,
                         xlabel="t = η · step" if i == len(chosen) - 1 else "")
        for n in range(len(t)):
            rows.append([sweep.name, r.id, r.config["dynamics"], r.config["loss"], r.config["k"],
                         eta, r.status, traj["step"][keep][n], t[n]] + [c[n] for c in columns])
    figure.key("gradient descent (colour: dynamics)", "k", "-", width=1.2)
    figure.key("closed-form flow", "k", "--")
    figure.key("difference (right axis, static figure)", "tab:gray", ":", width=1.2)
    if diverged:
        result.notes.append(
            f"Diverged (gradient descent or its flow): {', '.join(diverged)}. Their values "
            f"beyond ±{DRAWABLE:.0e} or not finite are not drawn; the CSV holds them all.")
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}theory")
    header = ["sweep", "run_id", "dynamics", "loss", "k", "eta", "status", "step", "t",
              "loss_gd", "loss_theory", "loss_difference",
              "sin_angle_gd", "sin_angle_theory", "sin_angle_difference"]
    result.files.append(write_csv(folder, f"{prefix}theory.csv", header, rows))
    result.caption = (
        "For each dynamics and loss, the run with the smallest step size: the loss (left) and "
        "the sine of the largest principal angle between the row space of W and the top-k "
        "eigenspace of C (right), gradient descent (solid) against the closed-form flow "
        "(dashed, THEORY §4.1–4.2) at the same t; dotted, on the right axis, their difference "
        "GD − theory. Runs drawn: " + ", ".join(r.id for r in chosen) + ".")
    return result

