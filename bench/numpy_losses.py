#!/usr/bin/python3
"""One naive GD step of each loss of THEORY 6 through the data, in plain numpy float64.

The step ssldyn takes with path = data (src/loss/objective.cpp, src/loss/loss.cpp): S the two
stacked views as rows of one (2n, d) array, F = S Wᵀ, the loss's A (∂L/∂F = −A/n), then
G = −(1/n) Aᵀ S and W ← W − ηG. InfoNCE in row blocks of the similarity matrix of about 2²¹
entries, as ssldyn does. Times: best and median of --reps steps after --warmup, per loss. The
BLAS thread count comes from OPENBLAS_NUM_THREADS, set before numpy is imported.
"""

import argparse

import numpy as np

from bench_common import openblas, read_idx_images, time_it


def spectral_contrastive(f, fp, n):
    g = f.T @ f / n
    return np.vstack([2 * fp - 4 * f @ g, 2 * f])


def barlow_twins(f, fp, n):
    k = f.T @ fp / n
    e = 0.5 * (k + k.T) - np.eye(k.shape[0])
    return np.vstack([-2 * fp @ e, -2 * f @ e])


def infonce(f, fp, n, tau=0.5):
    rows = max(1, min(n, (1 << 21) // n))
    a = np.empty((2 * n, f.shape[1]))
    a[n:] = f / tau
    for first in range(0, n, rows):
        s = f[first:first + rows] @ fp.T / tau
        s = np.exp(s - s.max(axis=1, keepdims=True))
        p = s / s.sum(axis=1, keepdims=True)
        last = first + p.shape[0]
        a[first:last] = (fp[first:last] - p @ fp) / tau
        a[n:] -= p.T @ f[first:last] / tau
    return a


LOSSES = {"spectral_contrastive": spectral_contrastive, "barlow_twins": barlow_twins,
          "infonce": infonce}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--idx", required=True, help="IDX images (MNIST: d = 784)")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    x = read_idx_images(a.idx, a.n)
    x -= x.mean(axis=0)
    rng = np.random.default_rng(1)
    s = np.vstack([x, x + 0.1 * rng.standard_normal(x.shape)])  # anchors, positives
    n, d = x.shape
    w = rng.standard_normal((a.k, d)) / np.sqrt(d)
    print(f"numpy {np.__version__}, OpenBLAS {openblas()}, n = {n}, d = {d}, k = {a.k}")
    for name, loss in LOSSES.items():
        def step():
            f = s @ w.T
            g = -(loss(f[:n], f[n:], n).T @ s) / n
            return w - 1e-3 * g
        best, median = time_it(a.warmup, a.reps, step)
        print(f"{name:22s} best {best * 1e3:9.2f} ms   median {median * 1e3:9.2f} ms")


if __name__ == "__main__":
    main()
