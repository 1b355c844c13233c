"""Gradient descent against the flow (THEORY 4.2): at a fixed t the error is O(η), so
log error = a + b log η with b near 1. Groups are runs that differ only in eta/eta_rel."""

import math

import numpy as np
from matplotlib.lines import Line2D

from .common import DYNAMICS_COLOURS, Result, Table, plt, reached, save, short, write_csv
from .stats import fit_line, nearest_record

ETA_KEYS = ("eta", "eta_rel")
MIN_POINTS = 3  # a slope with an interval needs n - 2 >= 1 degrees of freedom
# An error below this is round-off of the distance (both sides converged to the same point),
# not gradient descent's O(η) error, so the default t steps back to where all are above it.
ROUND_OFF = 1e-10
LEGEND_MAX = 12


def groups(sweep):
    """Lists of rows whose settings are equal but for eta/eta_rel, in index order."""
    out = {}
    for row in range(len(sweep)):
        config = sweep.index.row_config(row)
        key = tuple(sorted((k, v) for k, v in config.items() if k not in ETA_KEYS))
        out.setdefault(key, []).append(row)
    return list(out.values())


def varying_keys(sweep):
    """Settings that take more than one value in the sweep, η excluded: the group labels."""
    return [k for k, v in sweep.index.config.items() if k not in ETA_KEYS and len(set(v)) > 1]


def reached_times(run):
    traj = run.trajectory
    keep = reached(traj) & np.isfinite(traj["t"]) & np.isfinite(traj["theory_distance"])
    return traj["t"][keep]


def choose_t(runs, fixed_t=None):
    """The common t of a group, or (None, why).

    Default: the largest record time of the coarsest run (largest η) that every run reaches
    and at which every run's error is above ROUND_OFF."""
    common = min(float(reached_times(r).max()) if len(reached_times(r)) else -math.inf
                 for r in runs)
    if fixed_t is not None:
        if fixed_t > common * (1 + 1e-12):
            return None, f"t = {fixed_t:g} is past the last common record t = {common:.4g}"
        return fixed_t, None
    coarse = max(runs, key=lambda r: float(r.result["eta_used"]))
    for t in sorted(reached_times(coarse), reverse=True):
        if t > common * (1 + 1e-12):
            continue
        errors = [r.trajectory["theory_distance"][nearest_record(_times(r), t)] for r in runs]
        if all(np.isfinite(e) and e >= ROUND_OFF for e in errors):
            return float(t), None
    return None, f"the errors are at round-off (< {ROUND_OFF:g}) at every common record"


def _times(run):
    """Record times, NaN where the run did not reach the record."""
    traj = run.trajectory
    return np.where(reached(traj), traj["t"], np.nan)


def make(sweep, folder, prefix, fixed_t=None):
    result = Result("gd_error", "Gradient descent to flow error against the step size η")
    labels = varying_keys(sweep)
    candidates, notes = [], []
    for rows in groups(sweep):
        if len(rows) < 2:
            continue
        runs = [sweep.run(row) for row in rows]
        failed = [r.id for r in runs if r.status == "failed"]
        if failed:
            notes.append(f"failed runs left out of the fit: {', '.join(failed)}")
        runs = [r for r in runs if r.status == "done" and r.has("trajectory", "theory_distance")]
        if len({float(r.result["eta_used"]) for r in runs}) < MIN_POINTS:
            if len(rows) >= MIN_POINTS:
                notes.append(f"group of {', '.join(sweep.index.run_ids[i] for i in rows)}: fewer "
                             f"than {MIN_POINTS} finished runs with distinct η")
            continue
        candidates.append(runs)
    if not candidates:
        axes = ", ".join(sweep.axes) if sweep.axes else "none"
        result.skipped = (f"needs at least {MIN_POINTS} finished runs that differ only in "
                          f"eta/eta_rel; this sweep's axes: {axes}")
        result.notes = notes
        return result

    points, fits = [], []
    for runs in candidates:
        t_star, why = choose_t(runs, fixed_t)
        label = " ".join(f"{k}={runs[0].config.get(k, '?')}" for k in labels) or "all runs"
        if t_star is None:
            notes.append(f"group {label}: not fitted, {why}")
            continue
        number = len(fits) + 1
        etas, errors = [], []
        for r in sorted(runs, key=lambda r: float(r.result["eta_used"])):
            i = nearest_record(_times(r), t_star)
            traj = r.trajectory
            eta, error = float(r.result["eta_used"]), float(traj["theory_distance"][i])
            etas.append(eta)
            errors.append(error)
            points.append([sweep.name, number, r.id, r.config["dynamics"], r.status, eta, t_star,
                           traj["t"][i], traj["step"][i], error])
        fit = fit_line(np.log(etas), np.log(errors))
        fits.append((number, label, runs[0].config["dynamics"], t_star, fit, etas, errors))
    if not fits:
        result.skipped = "no group of runs could be fitted: " + "; ".join(notes[-3:])
        result.notes = notes
        return result

    dynamics = sorted({f[2] for f in fits}, key=lambda d: (d == "orthogonal", d))
    entries = max(min(sum(f[2] == d for f in fits), LEGEND_MAX + 1) for d in dynamics) + 1
    fig, axes = plt.subplots(1, len(dynamics), figsize=(5.2 * len(dynamics), 4.0 + 0.16 * entries),
                             squeeze=False)
    for column, name in enumerate(dynamics):
        ax = axes[0][column]
        mine = [f for f in fits if f[2] == name]
        colours = plt.cm.tab10(np.linspace(0, 1, 10))
        handles = []
        for n, (number, label, _, t_star, fit, etas, errors) in enumerate(mine):
            colour = colours[n % 10]
            ax.plot(etas, errors, "o", color=colour, ms=4)
            grid = np.geomspace(min(etas), max(etas), 20)
            ax.plot(grid, np.exp(fit.intercept + fit.slope * np.log(grid)), "-", color=colour, lw=1)
            if n < LEGEND_MAX:
                shown = label.replace(f"dynamics={name}", "").replace("  ", " ").strip()
                handles.append(Line2D([], [], color=colour, marker="o", ms=4, label=(
                    f"{shown or 'all runs'}: b = {fit.slope:.3f} [{fit.low:.3f}, {fit.high:.3f}]")))
        all_eta = np.concatenate([f[5] for f in mine])
        all_err = np.concatenate([f[6] for f in mine])
        centre_eta = math.exp(np.mean(np.log(all_eta)))
        centre_err = math.exp(np.mean(np.log(all_err)))
        grid = np.geomspace(all_eta.min(), all_eta.max(), 20)
        ax.plot(grid, centre_err * grid / centre_eta, ":", color="tab:gray", lw=1.5)
        handles.append(Line2D([], [], color="tab:gray", ls=":", label="slope 1 (THEORY §4.2)"))
        if len(mine) > LEGEND_MAX:
            handles.append(Line2D([], [], ls="", label=f"… {len(mine) - LEGEND_MAX} more groups (CSV)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step size η")
        what = "‖P − P_flow‖_F" if name == "orthogonal" else "‖W − W_flow‖_F / ‖W_flow‖_F"
        ax.set_ylabel(f"error at t*: {what}")
        ax.set_title(f"dynamics = {name}", color=DYNAMICS_COLOURS.get(name, "k"))
        ax.grid(True, which="both", alpha=0.3)
        # Below the axes: inside, the labels would hide the points.
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False)
    fig.suptitle(f"{sweep.name}: gradient descent to flow error at a fixed t, against η")
    fig.tight_layout()
    result.image = save(fig, folder, f"{prefix}gd_error.png")
    result.files.append(write_csv(
        folder, f"{prefix}gd_error.csv",
        ["sweep", "group", "run_id", "dynamics", "status", "eta", "t_star", "t_record", "step",
         "error"], points))
    fit_rows = [[sweep.name, number, label, dyn, fit.n, t_star, fit.slope, fit.low, fit.high,
                 fit.stderr, fit.quantile, fit.intercept]
                for number, label, dyn, t_star, fit, _, _ in fits]
    result.files.append(write_csv(
        folder, f"{prefix}gd_error_fit.csv",
        ["sweep", "group", "label", "dynamics", "n", "t_star", "slope", "slope_low", "slope_high",
         "slope_stderr", "t_quantile", "intercept"], fit_rows))
    result.tables.append(Table(
        "Fitted exponent b of error ∝ η^b, with its 95% interval (t distribution, n − 2 d.o.f.)",
        ["group", "runs", "dynamics", "n", "t*", "b", "95% interval"],
        [[number, label, dyn, fit.n, short(t_star), f"{fit.slope:.4f}",
          f"[{fit.low:.4f}, {fit.high:.4f}]"] for number, label, dyn, t_star, fit, _, _ in fits]))
    how = (f"t* = {fixed_t:g} for every group" if fixed_t is not None else
           "t* is the largest record time of the group's coarsest run that every run reaches "
           f"and at which every error exceeds {ROUND_OFF:g} (below it the distance is round-off "
           "of two converged trajectories)")
    result.caption = (
        "Runs that differ only in eta/eta_rel form a group; each point is one run's "
        "trajectory/theory_distance at its record nearest a common time t*; " + how + ". "
        "Lines: least-squares fits of log error = a + b log η; b with a 95% interval from the "
        "t distribution. THEORY §4.2 predicts b = 1 (dotted).")
    result.notes = notes
    return result
