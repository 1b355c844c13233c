"""What the Python benchmarks (numpy_step.py, torch_two_layer.py) share with each other and with
their C++ counterparts (bench_common.hpp): timing, peak memory, the OpenBLAS in use, the data."""

import ctypes
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
