"""What the Python benchmarks (numpy_step.py, torch_two_layer.py, numpy_losses.py,
torch_losses.py) share with each other and with their C++ counterparts (bench_common.hpp,
bench_losses.cpp): timing, peak memory, the OpenBLAS in use, the data, the losses' step."""

import argparse
import ctypes
import os
import gzip
import resource
import statistics
import struct
import sys
import time

import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def openblas():
    """The OpenBLAS this process loaded, if any: thread count and configuration as it reports
    them."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.split()[-1]}
        for path in sorted(libs):
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_get_num_threads"):
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return (lib.openblas_get_num_threads(), lib.openblas_get_config().decode(),
                        lib.openblas_get_corename().decode())
    except (OSError, AttributeError):
        pass
    return None


def time_it(warmup, reps, f):
    """Warm-up calls first, then (best, median) of the timed ones, as bench_common.hpp does."""
    for _ in range(warmup):
        f()
    s = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        s.append(time.perf_counter() - start)
    return min(s), statistics.median(s)


class CsvFile:
    """A benchmark's --csv file, as bench_common.hpp's: nothing for an empty path, else opened
    with its header line, each row flushed at once."""

    def __init__(self, path, header):
        self.file = open(path, "w") if path else None
        self.row(header)

    def row(self, line):
        if self.file:
            self.file.write(line + "\n")
            self.file.flush()


class DgemmReference:
    """The first dgemm rate of a run, of which every other rate is given as a percentage."""

    def __init__(self):
        self.rate = 0.0

    def offer(self, measured):
        if self.rate == 0.0:
            self.rate = measured

    def percent(self, measured):
        return 100.0 * measured / self.rate if self.rate > 0 and measured > 0 else 0.0


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def read_idx_images(path, count):
    """Images one per row, (count, rows*cols), scaled to [0, 1] as src/data/idx.cpp does."""
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        magic, total, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            sys.exit(f"{path}: not an IDX image file")
        count = total if count == 0 else min(count, total)
        pixels = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8)
    return pixels.reshape(count, rows * cols).astype(np.float64) / 255.0


# The losses' step (numpy_losses.py, torch_losses.py, bench_losses.cpp): flags, problem, timing.
LOSSES = ("spectral_contrastive", "barlow_twins", "infonce")
TEMPERATURE = 0.5  # InfoNCE's τ, as bench_losses.cpp's


def loss_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--idx", required=True, help="IDX images (MNIST: d = 784)")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--losses", default=",".join(LOSSES), help="comma separated")
    p.add_argument("--threads", type=int, default=0,
                   help="threads (default: OPENBLAS_NUM_THREADS); OPENBLAS_NUM_THREADS must be "
                        "set to the same before the BLAS is loaded (bench/losses.sh does both)")
    p.add_argument("--csv", default="")
    a = p.parse_args()
    a.losses = [name for name in a.losses.split(",") if name]
    a.threads = a.threads or int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0)
    return a


def loss_problem(a):
    """S, the anchors and their positives (X + 0.1 noise) as the rows of one (2n, d) array, centred
    by the mean of the clean samples; W (k, d) Gaussian with variance 1/d."""
    x = read_idx_images(a.idx, a.n)
    x -= x.mean(axis=0)
    rng = np.random.default_rng(1)
    s = np.vstack([x, x + 0.1 * rng.standard_normal(x.shape)])
    w = rng.standard_normal((a.k, x.shape[1])) / np.sqrt(x.shape[1])
    return s, w


def infonce_block_rows(n):
    """Rows of the similarity matrix per block: about 2²¹ entries, as src/loss/infonce.cpp."""
    return max(1, min(n, (1 << 21) // n))


def time_losses(impl, a, n, d, steps):
    """Times steps[name]() for each name of --losses as bench_losses.cpp does: a line each, and a
    CSV row (impl, threads, loss, n, d, k, best_s, median_s)."""
    csv = CsvFile(a.csv, "impl,threads,loss,n,d,k,best_s,median_s")
    for name in a.losses:
        best, median = time_it(a.warmup, a.reps, steps[name])
        print(f"{name:22s} best {best * 1e3:9.2f} ms   median {median * 1e3:9.2f} ms",
              flush=True)
        csv.row(f"{impl},{a.threads},{name},{n},{d},{a.k},{best:.6e},{median:.6e}")
