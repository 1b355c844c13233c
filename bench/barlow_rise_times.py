"""Barlow Twins' stepwise learning from a small generic start (THEORY 6.2, 6.5): the measured
rise time of each eigen-direction against its prediction, for starts of size eps = 1e-2 .. 1e-5.

    barlow_rise_times.py [--bin SSLDYN] [--seeds 1,2,3,4,5] [--eps 1e-2,1e-3,1e-4,1e-5]

Each run: spiked spectrum 4, 2, 1, 0.5 over a bulk of 0.1 (well separated: ratio 2), d = 16,
exact C in the standard basis (so that v_i = e_i and W0 v_i is the i-th column of the stored
W0), k = 4, Gaussian W0 with entries N(0, eps^2), naive dynamics, eta = 2.5e-4 up to t = 16,
a record every 1e-3 in t. Printed per eps and mode, for the first seed: lambda_i, the measured
`rise_time`, the stored `rise_time_predicted` (ln(1/(lambda_i r_ii^2))/(8 lambda_i), R of the
QR factorisation of [W0 v_1 | ... | W0 v_k]: the part of W0 v_i orthogonal to the directions the
earlier modes have taken, THEORY 6.2) and its relative deviation, and for comparison the same
formula from the column norms ||W0 v_i|| (an aligned start's r_ii) and its relative deviation;
then over all seeds the largest |relative deviation| of each prediction per eps. The stored
prediction is checked against numpy's QR of the stored W0 (to 1e-10 relative).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

SOURCE = __file__.rsplit("/bench/", 1)[0]
sys.path.insert(0, os.path.join(SOURCE, "analysis"))
from ssldyn.store import Store  # noqa: E402

SPIKES = (4.0, 2.0, 1.0, 0.5)
ETA, T_END, RECORD_EVERY = 2.5e-4, 16.0, 4


def run(binary, folder, eps, seed):
    """(lambda, measured, stored prediction, W0 v_i as columns) of one run."""
    store = os.path.join(folder, f"bt-{eps:g}-{seed}.h5")
    subprocess.run([binary, "run", "--store", store, "--overwrite", "-q", "--data", "spiked",
                    "--covariance", "exact", "--random_basis", "false", "--d", "16",
                    "--spikes", ",".join(f"{s:g}" for s in SPIKES), "--bulk", "0.1",
                    "--k", str(len(SPIKES)), "--loss", "barlow_twins", "--dynamics", "naive",
                    "--init", "gaussian", "--init_scale", f"{eps:g}", "--eta", f"{ETA:g}",
                    "--steps", str(round(T_END / ETA)), "--record_every", str(RECORD_EVERY),
                    "--reference_tolerance", "0", "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    with Store(store) as s:
        r = s.sweep("single").run(0)
        k = len(SPIKES)
        return (r.spectrum[:k], r.components["rise_time"], r.components["rise_time_predicted"],
                r.w0[:, :k])


def prediction(lam, eps):
    """ln(1/(lambda_i eps_i^2))/(8 lambda_i) (THEORY 6.2)."""
    return np.log(1.0 / (lam * eps * eps)) / (8.0 * lam)


def gram_schmidt(b0):
    """r_ii: the norm of the part of W0 v_i orthogonal to W0 v_1, ..., W0 v_{i-1}."""
    return np.abs(np.diag(np.linalg.qr(b0, mode="r")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(SOURCE, "build", "src", "ssldyn"))
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--eps", default="1e-2,1e-3,1e-4,1e-5")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    epsilons = [float(e) for e in args.eps.split(",")]
    rows, worst = [], []
    with tempfile.TemporaryDirectory() as folder:
        for eps in epsilons:
            largest = [0.0, 0.0]
            for seed in seeds:
                lam, measured, stored, b0 = run(args.bin, folder, eps, seed)
                np.testing.assert_allclose(stored, prediction(lam, gram_schmidt(b0)), rtol=1e-10)
                norms = prediction(lam, np.linalg.norm(b0, axis=0))
                dev_stored = measured / stored - 1.0
                dev_norms = measured / norms - 1.0
                largest = [max(largest[0], np.max(np.abs(dev_stored))),
                           max(largest[1], np.max(np.abs(dev_norms)))]
                if seed == seeds[0]:
                    rows += [(eps, i + 1, lam[i], measured[i], stored[i], dev_stored[i],
                              norms[i], dev_norms[i]) for i in range(len(lam))]
            worst.append((eps, *largest))
    print(f"seed {seeds[0]}:\n")
    print("| eps | i | lambda_i | rise_time | rise_time_predicted | relative | "
          "from the column norms | relative |")
    print("|---|---|---|---|---|---|---|---|")
    for eps, i, lam, m, p, dp, g, dg in rows:
        print(f"| {eps:g} | {i} | {lam:g} | {m:.5f} | {p:.5f} | {dp:+.1e} | {g:.5f} | {dg:+.1e} |")
    print(f"\nlargest |relative deviation| over seeds {args.seeds} and the 4 modes:\n")
    print("| eps | rise_time_predicted | from the column norms |")
    print("|---|---|---|")
    for eps, a, b in worst:
        print(f"| {eps:g} | {a:.1e} | {b:.1e} |")


if __name__ == "__main__":
    main()
