#!/usr/bin/python3
"""The orthogonal GD step of bench_step.cpp in plain numpy, for comparison.

Same sizes, flags, timing (warm-up, then best and median) and table columns as
ssldyn_bench_step. Run it with Debian's /usr/bin/python3 (the one with numpy); the BLAS
thread count comes from OPENBLAS_NUM_THREADS, which must be set before numpy is imported, so
set it in the environment (bench/run.sh does).

Data path: S stacks the three views as rows of one (3n, d) array (one sample per row, the
same memory as ssldyn's column-major d x 3n), F = W Sᵀ and G = −(1/n) A S, one product each.
Covariance path: G = −2 W C.
"""

import argparse
import os
import sys
import time

import numpy as np

from bench_common import FASHION, CsvFile, DgemmReference, openblas, read_idx_images, time_it


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=None, help="default 5 (3 with --quick)")
    p.add_argument("--dgemm", type=int, default=None, help="square dgemm size, 0 skips")
    p.add_argument("--dgemm-reps", type=int, default=3)
    p.add_argument("--data", default="fashion,spiked")
    p.add_argument("--k", default=None, help="default 16,64,256 (16,64 with --quick)")
    p.add_argument("--fashion-n", type=int, default=None)
    p.add_argument("--idx", default=FASHION)
    p.add_argument("--spiked-d", type=int, default=None)
    p.add_argument("--spiked-n", type=int, default=None)
    p.add_argument("--paths", default="covariance,data,products")
    p.add_argument("--retractions", default="qr,polar")
    p.add_argument("--csv", default="")
    a = p.parse_args()
    # Same defaults as bench_step.cpp, full then quick.
    quick = dict(reps=3, dgemm=1024, k="16,64", fashion_n=5000, spiked_d=1024, spiked_n=4000)
    full = dict(reps=5, dgemm=4096, k="16,64,256", fashion_n=60000, spiked_d=4096, spiked_n=20000)
    for key, value in (quick if a.quick else full).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    a.k = [int(k) for k in a.k.split(",") if k]
    a.data = [d for d in a.data.split(",") if d]
    a.paths = [p for p in a.paths.split(",") if p]
    a.retractions = [r for r in a.retractions.split(",") if r]
    return a


class Report:
    def __init__(self, csv, threads):
        self.threads = threads
        self.dgemm = DgemmReference()
        self.csv = CsvFile(csv, "impl,threads,data,d,n,k,path,retraction,median_s,best_s,gflops,"
                                "pct_dgemm")

    @staticmethod
    def header():
        print(f"{'data':<8} {'d':>6} {'n':>6} {'k':>4}  {'path':<10} {'retr':<6} "
              f"{'median_s':>11} {'best_s':>11} {'GFLOP/s':>9} {'%dgemm':>7}")

    def add(self, data, d, n, k, path, retraction, timing, flops):
        best, median = timing
        rate = flops / best / 1e9 if flops > 0 else 0.0
        if path == "dgemm":  # the first is the reference
            self.dgemm.offer(rate)
        pct = self.dgemm.percent(rate)
        print(f"{data:<8} {d:>6} {n:>6} {k:>4}  {path:<10} {retraction:<6} "
              f"{median:>11.4e} {best:>11.4e} {rate:>9.2f} {pct:>7.1f}", flush=True)
        self.csv.row(f"numpy,{self.threads},{data},{d},{n},{k},{path},{retraction},"
                     f"{median:.6e},{best:.6e},{rate:.3f},{pct:.2f}")


def load(args, name, rng):
    """Clean samples, one per row (n, d)."""
    if name == "fashion":
        return read_idx_images(args.idx, args.fashion_n)
    d = args.spiked_d
    eigenvalues = np.full(d, 0.5)
    eigenvalues[:4] = [8.0, 6.0, 4.0, 2.0]
    return rng.standard_normal((args.spiked_n, d)) * np.sqrt(eigenvalues)


def stacked_views(x, rng, sigma=0.1):
    """[X; X⁺; X⁻] as rows, centred on the mean of X; negatives by a random cyclic pairing."""
    n = x.shape[0]
    order = rng.permutation(n)
    partner = np.empty(n, dtype=np.intp)
    partner[order] = np.roll(order, -1)
    s = np.empty((3 * n, x.shape[1]))
    s[:n] = x
    s[n:2 * n] = x + sigma * rng.standard_normal(x.shape)
    s[2 * n:] = x[partner] + sigma * rng.standard_normal(x.shape)
    s -= x.mean(axis=0)
    return s


def covariance(s, n):
    x, diff = s[:n], s[n:2 * n] - s[2 * n:]
    m = x.T @ diff / n
    return 0.5 * (m + m.T)


def lambda_max(c, iterations=200):
    v = np.ones(c.shape[0]) / np.sqrt(c.shape[0])
    for _ in range(iterations):
        v = c @ v
        v /= np.linalg.norm(v)
    return float(v @ c @ v)


def retract_qr(z):
    q, r = np.linalg.qr(z.T)
    return (q * np.where(np.diag(r) < 0, -1.0, 1.0)).T


def retract_polar(z):
    u, _, vt = np.linalg.svd(z, full_matrices=False)
    return u @ vt


def step_covariance(w, c, eta, retract):
    wc = w @ c
    loss = -np.sum(wc * w)
    g = -2.0 * wc
    g -= (g @ w.T) @ w
    return retract(w - eta * g), loss


def step_data(w, s, n, eta, retract):
    f = w @ s.T  # k x 3n: the three views in one product
    f0, f1, f2 = f[:, :n], f[:, n:2 * n], f[:, 2 * n:]
    loss = -np.sum(f0 * (f1 - f2)) / n
    a = np.concatenate([f1 - f2, f0, -f0], axis=1)
    g = (a @ s) * (-1.0 / n)
    g -= (g @ w.T) @ w
    return retract(w - eta * g), loss


def bench_dgemm(args, report, when):
    """Measured at the start and the end, like bench_step.cpp; returns the rate."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, args.dgemm, args.dgemm))
    out = np.empty_like(a)
    best, median = time_it(1, args.dgemm_reps, lambda: np.matmul(a, b, out=out))
    flops = 2.0 * args.dgemm ** 3
    report.add("dgemm", args.dgemm, args.dgemm, args.dgemm, "dgemm", when, (best, median), flops)
    return flops / best / 1e9


def bench_dataset(args, name, report):
    rng = np.random.default_rng(7)
    setup_start = time.perf_counter()
    x = load(args, name, rng)
    n, d = x.shape
    s = stacked_views(x, rng)
    del x
    c = covariance(s, n)
    eta = 0.1 / lambda_max(c)
    print(f"# {name}: d = {d}, n = {n}, setup (load, views, C) "
          f"{time.perf_counter() - setup_start:.1f} s", flush=True)
    retractions = {"qr": retract_qr, "polar": retract_polar}
    for k in args.k:
        if k > d:
            continue
        g0 = rng.standard_normal((k, d)) / np.sqrt(d)
        for rname in args.retractions:
            retract = retractions[rname]
            w0 = retract(g0)
            for path in ("covariance", "data"):
                if path not in args.paths:
                    continue
                state = {"w": w0.copy()}
                if path == "data":
                    def call():
                        state["w"], _ = step_data(state["w"], s, n, eta, retract)
                    flops = 4.0 * k * d * 3 * n
                else:
                    def call():
                        state["w"], _ = step_covariance(state["w"], c, eta, retract)
                    flops = 2.0 * k * d * d
                report.add(name, d, n, k, path, rname,
                           time_it(args.warmup, args.reps, call), flops)
        if "products" in args.paths:
            # The two products alone (tall orientation, as bench_step.cpp's prod_tall).
            w = retract_qr(g0)
            a = np.full((k, 3 * n), 1e-3)

            def products():
                return w @ s.T, a @ s
            report.add(name, d, n, k, "prod_tall", "-",
                       time_it(args.warmup, args.reps, products), 4.0 * k * d * 3 * n)


def main():
    args = parse_args()
    info = openblas()
    threads = info[0] if info else int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    print(f"# numpy_step.py{' --quick' if args.quick else ''}: float64, orthogonal GD, "
          f"contrastive loss; numpy {np.__version__}, Python {sys.version.split()[0]}")
    print(f"# BLAS threads (openblas_get_num_threads) = {threads}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}")
    print(f"# OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}")
    if info:
        print(f"# OpenBLAS: {info[1]}, core {info[2]}")
    print(f"# timing: {args.warmup} warm-up, then best and median of {args.reps}; "
          f"GFLOP/s from best")
    print("# model flops: dgemm 2N^3, covariance step 2kd^2 (W C), data step 4kd(3n) "
          "(W S, A S^T)")
    report = Report(args.csv, threads)
    report.header()
    if args.dgemm > 0:
        start = bench_dgemm(args, report, "start")
    for name in args.data:
        bench_dataset(args, name, report)
    if args.dgemm > 0:
        end = bench_dgemm(args, report, "end")
        drift = 100.0 * abs(end - start) / max(start, end)
        print(f"# dgemm rate start {start:.1f}, end {end:.1f} GFLOP/s ({drift:.0f}% apart)"
              + (": the machine was busy, figures unreliable" if drift > 10 else ""))


if __name__ == "__main__":
    main()
