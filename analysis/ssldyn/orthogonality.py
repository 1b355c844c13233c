"""Ways to enforce orthogonality, compared (jobs/configs/orthogonality.ini, -spiked.ini).

    /usr/bin/python3 -m ssldyn.orthogonality STORE [--sweep NAME] [--csv FILE]

prints one row per method (retraction, penalty mu, weight decay), loss and k:

- the largest stable step eta*lambda_max of the sweep's grid, next to the predicted bound;
- at the smallest step of the grid (where every method is stable) the distance to the exact
  flow at a fixed time t* (default t* lambda_max = 10, an eighth of the runs, before the small-k
  runs have converged onto the top-k space) and how it scales with eta (its ratio at the two
  smallest steps; 2 for an O(eta) error; for weight decay the relative distance in W, marked
  (W), else ||P - P_flow||_F), the final distance of the row space to the Grassmann flow (for
  every method: all their exact flows move the row space alike; weight decay's collapse loses it
  in floating point), the final effective rank (and that
  of the minimiser the dynamics tend to), its least value along the run (the transient collapse
  of weak penalties), ||W W^T - I||_F (and the minimiser's), the sine of the largest principal
  angle to the top-k eigenspace, the loss gap (L - L*)/|L*|, and the median time per step.

The distances at t* and the predicted bounds open two runs per group; the rest comes from the
sweep's index table. `make(sweep, folder, prefix)` gives the same table, its CSV and a figure of
the effective rank along the runs, in the form ssldyn.report uses.

Stability. Every run of these sweeps ends at the same t, so a run of step eta is compared with
its exact flow and with the run of the smallest step of its group (method, loss, k). A run is
*unstable* when
  (1) it failed (non-finite weights or metrics: it diverged), or
  (2) its final distance to its exact flow exceeds 0.25 in ||P - P_flow||_F of the row spaces
      (retractions and penalties; at most sqrt(2k)), or 1 in ||W - W_flow||_F/||W_flow||_F
      (weight decay, whose weights may grow exponentially with an O(eta) relative error): gradient
      descent no longer follows the flow. The stall of orthogonal GD above 1/(lambda_1 -
      lambda_d) (THEORY 4.2) keeps W orthonormal and the loss finite but lands here, and so does
      weight decay's oscillating growth, which may stay finite over a short run; or
  (3) penalty runs only: its final ||W W^T - I||_F differs by more than 5 % from that of the
      smallest step's run. Above its bound the penalised GD does not diverge at once but cycles
      around the minimiser (the singular values of W oscillate while its row space still follows
      the flow), which (2) alone would miss.
Rule (2) needs runs long enough for a stable run to end near its flow (its O(eta) error is then
small; the comparison sweeps run to t lambda_max = 80). The largest stable step of a group is the largest eta of the grid such that it and every
smaller eta are stable. Predicted bounds (linear stability of GD at the fixed point):
  retractions   eta < 1/(lambda_1 - lambda_d)           (THEORY 4.2)
  penalty mu    eta < 2/(4 lambda_1 + 8 mu)              (curvature along the top singular
                                                          direction at s^2 = 1 + lambda_1/(2mu))
  weight decay  eta < 1/(lambda - lambda_d)              (modes 1 + 2 eta (lambda_j - lambda))
given below as eta*lambda_max.

The same numbers from the command line, e.g. the smallest step:
    ssldyn query STORE --sweep orthogonality --where 'eta_rel == 0.025' --metric \\
        final_theory_distance,final_effective_rank,optimum_effective_rank,min_effective_rank,\\
        final_orthogonality_error,optimum_orthogonality_error,final_topk_sin_angle,\\
        final_loss_gap,seconds_per_step
"""

import argparse
import math
import statistics
import sys

import numpy as np

from .store import Store, StoreError

DISTANCE_LIMIT = 0.25   # rule (2), row spaces
RELATIVE_LIMIT = 1.0    # rule (2), weights (weight decay)
PENALTY_DRIFT = 0.05    # rule (3)
RETRACTIONS = ("qr", "polar", "cayley", "geodesic")

HEADER = ["method", "loss", "k", "stable eta*lmax", "predicted", "dist at t*", "dist(2eta)/dist",
          "final dist P", "erank", "optimum", "min erank", "||WW^T-I||", "optimum", "sin angle", "loss gap",
          "us/step"]


def method_of(config):
    """A label for the way orthogonality is enforced: the retraction, penalty mu or weight decay."""
    dynamics = config["dynamics"]
    if dynamics == "orthogonal":
        return config["retraction"]
    if dynamics == "penalty":
        return f"penalty mu={config['penalty']}"
    if dynamics == "naive":
        return f"weight decay {config['weight_decay']}"
    return dynamics


def _order(label):
    """Retractions first (in their order), then penalties by mu, then the rest."""
    if label in RETRACTIONS:
        return (0, RETRACTIONS.index(label), 0.0)
    if label.startswith("penalty mu="):
        return (1, 0, float(label.split("=")[1]))
    return (2, 0, 0.0)


def _number(value):
    return float(value) if value is not None else math.nan


def groups_of(index):
    """{(method, loss, k): [row, ...] sorted by eta_rel} for the rows of an index."""
    out = {}
    for row in range(len(index)):
        config = index.row_config(row)
        key = (method_of(config), config["loss"], int(config["k"]))
        out.setdefault(key, []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: float(index.config["eta_rel"][r]))
    return dict(sorted(out.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1], kv[0][2])))


def unstable(index, row, reference):
    """The documented rule (module docstring): (1) failed, (2) far from its flow, (3) penalty
    cycling."""
    result = index.result
    if index.status[row] != "done":
        return True
    limit = RELATIVE_LIMIT if index.config["dynamics"][row] == "naive" else DISTANCE_LIMIT
    if not result["final_theory_distance"][row] <= limit:
        return True
    if index.config["dynamics"][row] == "penalty":
        mine = result["final_orthogonality_error"][row]
        ref = result["final_orthogonality_error"][reference]
        if not abs(mine - ref) <= PENALTY_DRIFT * abs(ref):
            return True
    return False


def largest_stable(index, rows):
    """The largest eta_rel of the group such that it and all smaller ones are stable (None when
    even the smallest is not)."""
    best = None
    for row in rows:
        if unstable(index, row, rows[0]):
            break
        best = float(index.config["eta_rel"][row])
    return best


def predicted_bound(config, spectrum):
    """The linear-stability bound on eta*lambda_max (module docstring)."""
    if spectrum is None or len(spectrum) == 0:
        return math.nan
    top, bottom = float(spectrum[0]), float(spectrum[-1])
    dynamics = config["dynamics"]
    if dynamics == "orthogonal":
        return top / (top - bottom)
    if dynamics == "penalty":
        mu = float(config["penalty"])
        return top * 2.0 / (4.0 * top + 8.0 * mu)
    if dynamics == "naive":
        decay = float(config["weight_decay"])
        return top / (decay - bottom) if decay > bottom else math.nan
    return math.nan


def distance_at(run, t):
    """theory_distance of a run at the record nearest to t (NaN if it has none)."""
    tr = run.trajectory
    if not tr or "theory_distance" not in tr:
        return math.nan
    reached = np.asarray(tr["step"]) >= 0
    if not reached.any():
        return math.nan
    times = np.asarray(tr["t"])[reached]
    return float(np.asarray(tr["theory_distance"])[reached][np.argmin(np.abs(times - t))])


def compare(sweep, t_lmax=10.0):
    """The comparison rows of a sweep: one list of cells per (method, loss, k), as in HEADER;
    distances at t* = t_lmax / lambda_max."""
    index = sweep.index
    res = index.result
    rows_out = []
    for (method, loss, k), rows in groups_of(index).items():
        ref = rows[0]
        stable = largest_stable(index, rows)
        done = [r for r in rows if index.status[r] == "done"]
        run = sweep.run(ref)
        bound = predicted_bound(index.row_config(ref), run.spectrum)
        t_star = t_lmax / res["lambda_max"][ref]
        distance = distance_at(run, t_star)
        slope = math.nan
        if len(rows) > 1:
            slope = distance_at(sweep.run(rows[1]), t_star) / distance
        per_step = [res["seconds_per_step"][r] for r in done]
        rows_out.append([
            method, loss, k,
            "< " + index.config["eta_rel"][ref] if stable is None else f"{stable:g}",
            bound,
            f"{distance:.3g} (W)" if method.startswith("weight decay") else distance, slope,
            res["final_grassmann_distance"][ref],
            res["final_effective_rank"][ref], res["optimum_effective_rank"][ref],
            res["min_effective_rank"][ref],
            res["final_orthogonality_error"][ref], res["optimum_orthogonality_error"][ref],
            res["final_topk_sin_angle"][ref], res["final_loss_gap"][ref],
            1e6 * statistics.median(per_step) if per_step else math.nan,
        ])
    return rows_out


def _cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "-"
    return f"{value:.3g}"


def render(rows):
    """A plain-text table."""
    text = [HEADER] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))) for r in text)


def reference_eta(sweep):
    values = sorted({float(v) for v in sweep.index.config["eta_rel"]})
    return values[0] if values else math.nan


def make(sweep, folder, prefix, t_lmax=10.0):
    """For ssldyn.report: the comparison table, its CSV, and the effective rank along the runs
    of the smallest step (penalties at every mu against a retraction and weight decay)."""
    from .common import Result, Table, plt, save, short, write_csv

    result = Result("orthogonality", "Ways to enforce orthogonality, compared")
    index = sweep.index
    if "penalty" not in index.config or "seconds_per_step" not in index.result:
        result.skipped = "not a comparison sweep (no penalty setting or seconds_per_step column)"
        return result
    if "penalty" not in set(index.config["dynamics"]) and len(set(index.config["retraction"])) < 2:
        result.skipped = "not a comparison sweep (no penalty runs and a single retraction)"
        return result
    rows = compare(sweep, t_lmax)
    result.files.append(write_csv(folder, f"{prefix}orthogonality.csv", HEADER, rows))
    result.tables.append(Table("", HEADER, [[short(v) if not isinstance(v, str) else v
                                             for v in r] for r in rows]))
    eta = reference_eta(sweep)
    keys = sorted({(index.config["loss"][r], int(index.config["k"][r])) for r in range(len(index))})
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    for ax, (loss, k) in zip(axes[0], keys):
        for row in range(len(index)):
            config = index.row_config(row)
            if (config["loss"], int(config["k"])) != (loss, k) or float(config["eta_rel"]) != eta:
                continue
            label = method_of(config)
            if config["dynamics"] == "orthogonal" and label != "polar":
                continue
            run = sweep.run(row)
            tr = run.trajectory
            if not tr:
                continue
            mask = np.asarray(tr["step"]) >= 0
            ax.plot(tr["t"][mask], tr["effective_rank"][mask], label=label, lw=1)
        ax.set_title(f"{loss}, k = {k}")
        ax.set_xscale("symlog", linthresh=0.1)
        ax.set_xlabel("t")
        ax.set_ylabel("effective rank")
        ax.legend()
    fig.tight_layout()
    result.image, result.svg = save(fig, folder, f"{prefix}orthogonality.png")
    result.caption = (f"One row per method, loss and k. Columns after 'predicted' are at the "
                      f"smallest step eta*lambda_max = {eta:g}: the distance to the flow at t* "
                      f"(t* lambda_max = {t_lmax:g}), the rest at the common final t. Stability "
                      "rule and bounds: analysis/ssldyn/orthogonality.py. The figure: effective rank "
                      "along the runs of that step; weak penalties pass through the collapse.")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ssldyn.orthogonality",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("store", metavar="STORE")
    parser.add_argument("--sweep", metavar="NAME", action="append",
                        help="this sweep only (repeatable; default: every sweep with a "
                             "seconds_per_step column)")
    parser.add_argument("--t-lmax", metavar="X", type=float, default=10.0,
                        help="the distance to the flow is read at t* = X / lambda_max "
                             "(default 10)")
    parser.add_argument("--csv", metavar="FILE", help="also write the rows as CSV")
    args = parser.parse_args(argv)
    try:
        with Store(args.store) as store:
            names = args.sweep or store.sweeps()
            all_rows = []
            for name in names:
                sweep = store.sweep(name)
                if "seconds_per_step" not in sweep.index.result:
                    continue
                rows = compare(sweep, args.t_lmax)
                print(f"sweep {name}: columns after 'predicted' at eta*lambda_max = "
                      f"{reference_eta(sweep):g}; distances at t* lambda_max = {args.t_lmax:g}, "
                      f"the rest at the final t = {_common_t(sweep):.3g}")
                print(render(rows))
                print()
                all_rows += [[name] + r for r in rows]
    except StoreError as e:
        print(e, file=sys.stderr)
        return 2
    if args.csv:
        import csv
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["sweep"] + HEADER)
            writer.writerows(all_rows)
    return 0


def _common_t(sweep):
    t = [v for v, s in zip(sweep.index.result["final_t"], sweep.index.status) if s == "done"]
    return float(np.median(t)) if t else math.nan


if __name__ == "__main__":
    sys.exit(main())
