"""Gradient descent against the flow (THEORY 4.2): at a fixed t the error is O(η), so
log error = a + b log η with b near 1. Groups are runs that differ only in eta/eta_rel."""

import math

import numpy as np
from .common import DYNAMICS_COLOURS, Result, Table, plt, reached, short, write_csv
from .figure import Figure, RunInfo
from .stats import fit_line, nearest_record

ETA_KEYS = ("eta", "eta_rel")
MIN_POINTS = 3  # a slope with an interval needs n - 2 >= 1 degrees of freedom
# An error below this is round-off of the distance (both sides converged to the same point),
# not gradient descent's O(η) error, so the default t steps back to where all are above it.
ROUND_OFF = 1e-10
LEGEND_MAX = 12
EARLIER = 0.25  # the earlier time at which an exponent that excludes 1 is fitted again
NEAR = 0.1  # an exponent this close to 1 that excludes it: O(η²) terms (probable_cause)


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


def probable_cause(runs, etas, errors, t_star, fit):
    """Why a group's exponent interval excludes 1, tried by refitting (runs by ascending η):
    over the smaller half of its steps (η too large: the exponent comes back to 1 as η falls,
    the larger steps are past the O(η) regime), and at an earlier time EARLIER·t* (t* too
    late: the runs have converged, or their errors saturated, by t*). A refit is the cause
    when it takes b at least half way back to 1 and its interval (if it has one: three points
    or more) holds 1. Otherwise a b within NEAR of 1 is put down to the O(η²) terms over the
    whole range of steps."""
    def explains(refit):
        back = abs(refit.slope - 1.0) <= 0.5 * abs(fit.slope - 1.0)
        return back and (refit.n < MIN_POINTS or not refit.excludes(1.0))

    def shown(refit):
        if refit is None:
            return "no fit (errors at round-off)"
        interval = (f" [{refit.low:.3f}, {refit.high:.3f}]" if refit.n >= MIN_POINTS else
                    f" (from {refit.n} points)")
        return f"b = {refit.slope:.3f}{interval}"

    found = []
    half = max(2, len(etas) // 2)
    small = fit_line(np.log(etas[:half]), np.log(errors[:half]))
    if explains(small):
        found.append(f"η too large: the exponent comes back to 1 as η falls (over the "
                     f"{half} smallest steps, η ≤ {etas[half - 1]:.3g}, {shown(small)}); the "
                     "larger steps are past the O(η) regime")
    t_early = EARLIER * t_star
    early = [float(r.trajectory["theory_distance"][nearest_record(_times(r), t_early)])
             for r in runs]
    refit = None
    if all(np.isfinite(e) and e >= ROUND_OFF for e in early):
        refit = fit_line(np.log(etas), np.log(early))
        if explains(refit):
            found.append(f"t* too late: the runs have converged or their errors saturated by "
                         f"t* = {t_star:.3g} (at t = {t_early:.3g}, {shown(refit)}; set "
                         "--gd-error-t)")
    if found:
        return "; or ".join(found)
    tried = (f"neither the fit over the {half} smallest steps ({shown(small)}) nor the fit at "
             f"t = {t_early:.3g} ({shown(refit)}) brings b back to 1")
    if abs(fit.slope - 1.0) < NEAR:
        return (f"η too large over the whole range: b is within {NEAR:g} of 1, as the O(η²) "
                f"terms of the error tilt it; {tried}; smaller steps bring b to 1")
    return f"not found: {tried}; the errors may not be in the O(η) regime"


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

    # The group labels name only what tells the fitted groups apart: settings that vary
    # elsewhere in the sweep (runs of another model, say) would only lengthen them.
    labels = [k for k in labels if len({r.config.get(k) for runs in candidates for r in runs}) > 1]
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
        ordered = sorted(runs, key=lambda r: float(r.result["eta_used"]))
        fits.append((number, label, runs[0].config["dynamics"], t_star, fit, etas, errors,
                     ordered))
    if not fits:
        result.skipped = "no group of runs could be fitted: " + "; ".join(notes[-3:])
        result.notes = notes
        return result

    dynamics = sorted({f[2] for f in fits}, key=lambda d: (d == "orthogonal", d))
    figure = Figure(RunInfo(sweep), 1, len(dynamics), (4.6 * len(dynamics) + 3.2, 4.2),
                    title=f"{sweep.name}: gradient descent to flow error at a fixed t, against η")
    colours = plt.cm.tab10(np.linspace(0, 1, 10))
    for column, name in enumerate(dynamics):
        mine = [f for f in fits if f[2] == name]
        for n, (number, label, _, t_star, fit, etas, errors, runs) in enumerate(mine):
            colour = colours[n % 10]
            for r, eta, error in zip(runs, etas, errors):
                figure.line(0, column, [eta], [error], colour, "", marker="o", size=4, runs=[r.id])
            grid = np.geomspace(min(etas), max(etas), 20)
            shown = label.replace(f"dynamics={name}", "").replace("  ", " ").strip()
            flag = " (excludes 1)" if fit.excludes(1.0) else ""
            text = (f"group {number}, {shown or 'all runs'}: b = {fit.slope:.3f} "
                    f"[{fit.low:.3f}, {fit.high:.3f}]{flag}")
            figure.line(0, column, grid, np.exp(fit.intercept + fit.slope * np.log(grid)), colour,
                        "-", runs=[r.id for r in runs], label=text if n < LEGEND_MAX else None,
                        hover=f"{text}<br>t* = {t_star:.4g}<br>runs: "
                              + ", ".join(r.id for r in runs))
        all_eta = np.concatenate([f[5] for f in mine])
        all_err = np.concatenate([f[6] for f in mine])
        centre_eta = math.exp(np.mean(np.log(all_eta)))
        centre_err = math.exp(np.mean(np.log(all_err)))
        grid = np.geomspace(all_eta.min(), all_eta.max(), 20)
        figure.line(0, column, grid, centre_err * grid / centre_eta, "tab:gray", ":", width=1.5,
                    label="slope 1 (THEORY §4.2)", hover="slope 1 (THEORY §4.2)")
        if len(mine) > LEGEND_MAX:
            figure.key(f"… {len(mine) - LEGEND_MAX} more groups (CSV)", "white", "")
        what = "‖P − P_flow‖_F" if name == "orthogonal" else "‖W − W_flow‖_F / ‖W_flow‖_F"
        figure.panel(0, column, title=f"dynamics = {name}", xlabel="step size η",
                     ylabel=f"error at t*: {what}", xlog=True, ylog=True,
                     title_colour=DYNAMICS_COLOURS.get(name, "black"))
    result.image, result.svg, result.interactive = figure.save(folder, f"{prefix}gd_error")
    result.files.append(write_csv(
        folder, f"{prefix}gd_error.csv",
        ["sweep", "group", "run_id", "dynamics", "status", "eta", "t_star", "t_record", "step",
         "error"], points))
    causes, flagged = {}, []
    for number, label, _, t_star, fit, etas, errors, runs in fits:
        if fit.excludes(1.0):
            cause = probable_cause(runs, etas, errors, t_star, fit)
            causes[number] = cause
            flagged.append(f"Group {number} ({label}): b = {fit.slope:.3f} [{fit.low:.3f}, "
                           f"{fit.high:.3f}] excludes the theory's b = 1 (THEORY §4.2). "
                           f"Probable cause: {cause}.")
    notes[:0] = flagged
    fit_rows = [[sweep.name, number, label, dyn, fit.n, t_star, fit.slope, fit.low, fit.high,
                 fit.stderr, fit.quantile, fit.intercept, number in causes,
                 causes.get(number, "")]
                for number, label, dyn, t_star, fit, _, _, _ in fits]
    result.files.append(write_csv(
        folder, f"{prefix}gd_error_fit.csv",
        ["sweep", "group", "label", "dynamics", "n", "t_star", "slope", "slope_low", "slope_high",
         "slope_stderr", "t_quantile", "intercept", "excludes_1", "probable_cause"], fit_rows))
    result.tables.append(Table(
        "Fitted exponent b of error ∝ η^b, with its 95% interval (t distribution, n − 2 d.o.f.); "
        "highlighted: intervals that exclude b = 1",
        ["group", "runs", "dynamics", "n", "t*", "b", "95% interval", "b = 1?"],
        [[number, label, dyn, fit.n, short(t_star), f"{fit.slope:.4f}",
          f"[{fit.low:.4f}, {fit.high:.4f}]", "EXCLUDED" if number in causes else "inside"]
         for number, label, dyn, t_star, fit, _, _, _ in fits],
        ["flagged" if f[0] in causes else "" for f in fits]))
    how = (f"t* = {fixed_t:g} for every group" if fixed_t is not None else
           "t* is the largest record time of the group's coarsest run that every run reaches "
           f"and at which every error exceeds {ROUND_OFF:g} (below it the distance is round-off "
           "of two converged trajectories)")
    result.caption = (
        "Runs that differ only in eta/eta_rel form a group; each point is one run's "
        "trajectory/theory_distance at its record nearest a common time t*; " + how + ". "
        "Lines: least-squares fits of log error = a + b log η; b with a 95% interval from the "
        "t distribution. THEORY §4.2 predicts b = 1 (dotted). An interval that excludes 1 is "
        "highlighted, with its probable cause in a note: η too large (the fit over the smaller "
        f"half of the steps comes back to 1), t* too late (the fit at {EARLIER:g} t* does), or "
        "O(η²) terms over the whole range (b near 1 all the same).")
    result.notes = notes
    return result
