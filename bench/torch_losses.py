#!/usr/bin/python3
"""One naive GD step of each loss of THEORY 6 through the data, in PyTorch float64.

The step of numpy_losses.py and of ssldyn's data path (bench_losses.cpp) as a PyTorch user writes
it: F = S Wᵀ for both views stacked as the rows of S (2n, d), the loss of THEORY 6 in torch
operations, autograd for ∂L/∂W, then W ← W − η ∂L/∂W. InfoNCE in the row blocks of the
similarity matrix of numpy_losses.py and ssldyn (about 2²¹ entries each), each block's
log Σⱼ e^{Sᵢⱼ} by torch.logsumexp. Same data, shapes, flags and timing as numpy_losses.py
(bench_common.py); torch.set_num_threads(--threads), and OPENBLAS_NUM_THREADS set to the same in
the environment (bench/losses.sh does both).

PyTorch: Debian's python3-torch (`apt-get install -y python3-torch`), run with /usr/bin/python3.
"""

import sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit("torch_losses.py: PyTorch is missing for this interpreter: apt-get install -y "
             "python3-torch (Debian's package; run with /usr/bin/python3)")

from bench_common import TEMPERATURE, infonce_block_rows, loss_args, loss_problem, openblas, \
    time_losses


def spectral_contrastive(f, fp, n):
    g = f.T @ f / n
    return -2 * (f * fp).sum() / n + (g * g).sum()


def barlow_twins(f, fp, n):
    c = f.T @ fp / n
    e = 0.5 * (c + c.T) - torch.eye(c.shape[0], dtype=c.dtype)
    return (e * e).sum()


def infonce(f, fp, n, tau=TEMPERATURE):
    rows = infonce_block_rows(n)
    loss = 0.0
    for first in range(0, n, rows):
        s = f[first:first + rows] @ fp.T / tau
        loss = loss + torch.logsumexp(s, dim=1).sum() \
            - (f[first:first + rows] * fp[first:first + rows]).sum() / tau
    return loss / n


LOSSES = {"spectral_contrastive": spectral_contrastive, "barlow_twins": barlow_twins,
          "infonce": infonce}


def main():
    a = loss_args(__doc__.splitlines()[0])
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    s_np, w0 = loss_problem(a)
    s = torch.from_numpy(s_np)
    n, d = s.shape[0] // 2, s.shape[1]
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), OpenBLAS {openblas()}, "
          f"n = {n}, d = {d}, k = {a.k}")

    def step_of(loss):
        w = torch.from_numpy(w0.copy())

        def step():
            nonlocal w
            w.requires_grad_()
            f = s @ w.T
            value = loss(f[:n], f[n:], n)
            value.backward()
            with torch.no_grad():
                w = w - 1e-3 * w.grad
            return value.item()
        return step

    time_losses("torch", a, n, d, {name: step_of(LOSSES[name]) for name in a.losses})


if __name__ == "__main__":
    main()
