#!/usr/bin/python3
"""One naive GD step of each loss of THEORY 6 through the data, in plain numpy float64.

The step ssldyn takes with path = data (src/loss/objective.cpp, src/loss/loss.cpp): S the two
stacked views as rows of one (2n, d) array, F = S Wᵀ, the loss and its A (∂L/∂F = −A/n), then
G = −(1/n) Aᵀ S and W ← W − ηG. InfoNCE in row blocks of the similarity matrix of about 2²¹
entries, as ssldyn does. Times: best and median of --reps steps after --warmup, per loss. The
BLAS thread count comes from OPENBLAS_NUM_THREADS, set before numpy is imported (bench/losses.sh).
"""

import numpy as np

from bench_common import TEMPERATURE, infonce_block_rows, loss_args, loss_problem, openblas, \
    time_losses


def spectral_contrastive(f, fp, n):
    g = f.T @ f / n
    loss = -2 * np.vdot(f, fp) / n + np.vdot(g, g)
    return loss, np.vstack([2 * fp - 4 * f @ g, 2 * f])


def barlow_twins(f, fp, n):
    k = f.T @ fp / n
    e = 0.5 * (k + k.T) - np.eye(k.shape[0])
    return np.vdot(e, e), np.vstack([-2 * fp @ e, -2 * f @ e])


def infonce(f, fp, n, tau=TEMPERATURE):
    rows = infonce_block_rows(n)
    a = np.empty((2 * n, f.shape[1]))
    a[n:] = f / tau
    loss = 0.0
    for first in range(0, n, rows):
        s = f[first:first + rows] @ fp.T / tau
        top = s.max(axis=1, keepdims=True)
        s = np.exp(s - top)
        z = s.sum(axis=1, keepdims=True)
        last = first + s.shape[0]
        loss += np.sum(top + np.log(z)) - np.vdot(f[first:last], fp[first:last]) / tau
        p = s / z
        a[first:last] = (fp[first:last] - p @ fp) / tau
        a[n:] -= p.T @ f[first:last] / tau
    return loss / n, a


LOSSES = {"spectral_contrastive": spectral_contrastive, "barlow_twins": barlow_twins,
          "infonce": infonce}


def main():
    a = loss_args(__doc__.splitlines()[0])
    s, w0 = loss_problem(a)
    n, d = s.shape[0] // 2, s.shape[1]
    print(f"numpy {np.__version__}, OpenBLAS {openblas()}, n = {n}, d = {d}, k = {a.k}")

    def step_of(loss):
        w = w0.copy()

        def step():
            nonlocal w
            f = s @ w.T
            value, grad_f = loss(f[:n], f[n:], n)
            w = w - 1e-3 * (-(grad_f.T @ s) / n)
            return value
        return step

    time_losses("numpy", a, n, d, {name: step_of(LOSSES[name]) for name in a.losses})


if __name__ == "__main__":
    main()
