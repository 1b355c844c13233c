#!/usr/bin/python3
"""The two-layer GD step of bench_two_layer.cpp in PyTorch, for comparison.

Same sizes, flags, timing (warm-up, then best and median), flop count and CSV columns as
ssldyn_bench_two_layer. float64 throughout: F = W2 tanh(W1 x) for the anchors and the
positives (one product over both views stacked as rows), the non-contrastive loss
-(1/n) sum F(x).F(x+), autograd for both layers' gradients, then per layer the Stiefel
gradient G - sym(G W^T) W (on the transposes when the layer has orthonormal columns) and the
QR retraction (torch.linalg.qr, signs fixed so that diag(R) > 0). Run it with Debian's
/usr/bin/python3 (python3-torch); set OPENBLAS_NUM_THREADS in the environment as well as
--threads (bench/two_layer.sh does both).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

from bench_common import (FASHION, CsvFile, DgemmReference, openblas, peak_rss_mib,
                          read_idx_images, time_it)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.add_argument("--sizes", default=None,
                   help="n x h pairs (default 60000x1024,60000x4096,10000x16384)")
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--eta", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--dgemm", type=int, default=None, help="square dgemm size, 0 skips")
    p.add_argument("--dgemm-reps", type=int, default=3)
    p.add_argument("--idx", default=FASHION)
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads (default: OPENBLAS_NUM_THREADS, else torch's)")
    p.add_argument("--csv", default="")
    a = p.parse_args()
    # Same defaults as bench_two_layer.cpp, full then quick.
    quick = dict(dgemm=1024, sizes="5000x256,5000x1024,2000x2048")
    full = dict(dgemm=4096, sizes="60000x1024,60000x4096,10000x16384")
    for key, value in (quick if a.quick else full).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    a.sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",") if s]
    return a


class Report:
    def __init__(self, csv, threads):
        self.threads = threads
        self.dgemm = DgemmReference()
        self.csv = CsvFile(csv, "impl,threads,path,d,n,h,k,when,median_s,best_s,gflop,gflops,"
                                "pct_dgemm,peak_rss_mib")

    @staticmethod
    def header():
        print(f"{'path':<6} {'d':>5} {'n':>6} {'h':>6} {'k':>4} {'when':<6} {'median_s':>11} "
              f"{'best_s':>11} {'GFLOP':>9} {'GFLOP/s':>9} {'%dgemm':>7} {'peak_MiB':>9}")

    def add(self, path, d, n, h, k, when, timing, flops):
        best, median = timing
        rate = flops / best / 1e9
        if path == "dgemm":  # the first is the reference
            self.dgemm.offer(rate)
        pct = self.dgemm.percent(rate)
        rss = peak_rss_mib()
        print(f"{path:<6} {d:>5} {n:>6} {h:>6} {k:>4} {when:<6} {median:>11.4e} {best:>11.4e} "
              f"{flops / 1e9:>9.1f} {rate:>9.2f} {pct:>7.1f} {rss:>9.0f}", flush=True)
        self.csv.row(f"torch,{self.threads},{path},{d},{n},{h},{k},{when},{median:.6e},"
                     f"{best:.6e},{flops / 1e9:.3f},{rate:.3f},{pct:.2f},{rss:.0f}")


def stacked_views(x, gen, sigma=0.1):
    """[X; X+] as rows (2n, d): anchors and positives X + sigma*noise, centred by the mean of
    the clean samples (the runs' views, src/data/views.hpp)."""
    n = x.shape[0]
    s = torch.empty((2 * n, x.shape[1]), dtype=torch.float64)
    s[:n] = x
    s[n:] = x + sigma * torch.randn(x.shape, dtype=torch.float64, generator=gen)
    s -= x.mean(dim=0)
    return s


def retract_qr(z):
    """Orthonormal rows of the QR factor of z^T with diag(R) > 0, z m x p, m <= p."""
    q, r = torch.linalg.qr(z.T)
    return (q * torch.where(torch.diagonal(r) < 0, -1.0, 1.0)).T


def on_manifold(w):
    """Orthonormal rows (m <= p) or columns (m > p), as initial_two_layer_weights."""
    return retract_qr(w) if w.shape[0] <= w.shape[1] else retract_qr(w.T).T


def stiefel_step(w, g, eta):
    """W <- R_W(-eta (G - sym(G W^T) W)) in row form; a layer with orthonormal columns as
    its transpose."""
    if w.shape[0] > w.shape[1]:
        return stiefel_step(w.T, g.T, eta).T
    gwt = g @ w.T
    grad = g - 0.5 * (gwt + gwt.T) @ w
    return retract_qr(w - eta * grad)


def loss_of(s, n, w1, w2):
    f = torch.tanh(s @ w1.T) @ w2.T  # (2n, k): both views in one product
    return -(f[:n] * f[n:]).sum() / n


def step(s, n, w, eta):
    w1 = w[0].requires_grad_()
    w2 = w[1].requires_grad_()
    loss = loss_of(s, n, w1, w2)
    loss.backward()
    with torch.no_grad():
        w[0] = stiefel_step(w1.detach(), w1.grad, eta)
        w[1] = stiefel_step(w2.detach(), w2.grad, eta)
    return loss.item()


def layer_flops(rows, cols):
    """Stiefel gradient 4m^2 p and Householder QR with Q formed 4pm^2 - 4m^3/3 (m <= p)."""
    m, p = min(rows, cols), max(rows, cols)
    return 4.0 * m * m * p + 4.0 * p * m * m - 4.0 * m ** 3 / 3.0


def step_flops(n, d, h, k):
    """Forward and backward GEMMs on two views, 8ndh + 12nhk, plus both layers."""
    return 8.0 * n * d * h + 12.0 * n * h * k + layer_flops(h, d) + layer_flops(k, h)


def orthogonality_error(w):
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    return torch.linalg.norm(gram - torch.eye(gram.shape[0], dtype=gram.dtype)).item()


def bench_dgemm(args, report, when):
    """Measured at the start and the end, like bench_two_layer.cpp; returns the rate."""
    gen = torch.Generator().manual_seed(1)
    a = torch.randn((args.dgemm, args.dgemm), dtype=torch.float64, generator=gen)
    b = torch.randn((args.dgemm, args.dgemm), dtype=torch.float64, generator=gen)
    out = torch.empty_like(a)
    best, median = time_it(1, args.dgemm_reps, lambda: torch.mm(a, b, out=out))
    flops = 2.0 * args.dgemm ** 3
    report.add("dgemm", args.dgemm, args.dgemm, args.dgemm, args.dgemm, when, (best, median),
               flops)
    return flops / best / 1e9


def bench_size(args, images, n, h, report):
    setup_start = time.perf_counter()
    d, k = images.shape[1], args.k
    if n > images.shape[0]:
        sys.exit(f"--sizes: n = {n} but the file holds {images.shape[0]} images")
    gen = torch.Generator().manual_seed(1)
    s = stacked_views(images[:n], gen)
    gen.manual_seed(7 + h)
    w = [on_manifold(torch.randn((h, d), dtype=torch.float64, generator=gen) / d ** 0.5),
         on_manifold(torch.randn((k, h), dtype=torch.float64, generator=gen) / h ** 0.5)]
    print(f"# d = {d}, n = {n}, h = {h}, k = {k}: setup (views, W0) "
          f"{time.perf_counter() - setup_start:.1f} s", flush=True)
    losses = []
    timing = time_it(args.warmup, args.reps, lambda: losses.append(step(s, n, w, args.eta)))
    print(f"# loss {losses[0]:.10g} -> {losses[-1]:.10g} over {len(losses)} steps; "
          f"orthonormality W1 {orthogonality_error(w[0]):.1e} W2 {orthogonality_error(w[1]):.1e}",
          flush=True)
    report.add("step", d, n, h, k, "-", timing, step_flops(n, d, h, k))


def main():
    args = parse_args()
    threads = args.threads or int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    torch.set_grad_enabled(True)
    info = openblas()
    print(f"# torch_two_layer.py{' --quick' if args.quick else ''}: float64, two-layer tanh, "
          f"both layers constrained, QR retraction, non-contrastive loss, k = {args.k}; "
          f"torch {torch.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"# torch threads (get_num_threads) = {torch.get_num_threads()}; BLAS threads = "
          f"{info[0] if info else '?'}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    if info:
        print(f"# OpenBLAS: {info[1]}, core {info[2]}")
    print(f"# timing: {args.warmup} warm-up, then best and median of {args.reps}; "
          f"GFLOP/s from best")
    print("# model flops: dgemm 2N^3; step 8ndh + 12nhk (forward and backward, two views) + "
          "per layer m x p (m <= p) 8pm^2 - 4m^3/3 (Stiefel gradient, QR)")
    report = Report(args.csv, torch.get_num_threads())
    report.header()
    if args.dgemm > 0:
        start = bench_dgemm(args, report, "start")
    images = torch.from_numpy(read_idx_images(args.idx, max(n for n, _ in args.sizes)))
    for n, h in args.sizes:
        bench_size(args, images, n, h, report)
    if args.dgemm > 0:
        end = bench_dgemm(args, report, "end")
        drift = 100.0 * abs(end - start) / max(start, end)
        print(f"# dgemm rate start {start:.1f}, end {end:.1f} GFLOP/s ({drift:.0f}% apart)"
              + (": the machine was busy, figures unreliable" if drift > 10 else ""))


if __name__ == "__main__":
    main()
