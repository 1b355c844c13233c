"""The Python side of the store benchmark (store_bench.sh): what a sweep's store holds, and how
long reading it takes, for a store of schema 1 (a group per run) or 2 (arrays per sweep).

    store_read.py STORE SWEEP [--analysis SRC] [--trajectory-limit N]
    store_read.py STORE SWEEP --numbers-only     # bytes of the numbers held (below)
    store_read.py STORE SWEEP --schema-only      # the store's schema_version

The numbers held are runs x (series values + result columns + weights W0 and W + spectrum) x
8 bytes, counted alike for both schemas: the series are step, t, the metrics of GD and of the
theory, the distance between them and both singular values (schema 1 keeps step and t twice, in
trajectory/ and theory/: counted once), a result column is one number per run whatever its type,
and the spectrum (d eigenvalues) is counted per run even where runs share it.

Reads, each timed from opening the file (the page cache warm: the store was just written), the
best of 3 when one takes under 5 s:
- results: every per-run column (settings, status, results; text decoded) into a pandas
  DataFrame; through SRC's analysis/ssldyn/store.py (Sweep.to_dataframe()) when it reads the store's
  schema and has it, and always with plain h5py;
- loss: the GD loss of every run (runs x records); Sweep.series() when the reader has it, and
  with plain h5py: schema 2 one dataset (gd_loss), schema 1 one read per run, of at most
  --trajectory-limit runs (default 10^4), and analysis/ssldyn/store.py's run.trajectory of the same.
"""

import argparse
import importlib
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd


def schema(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["schema_version"])


def text(values):
    return np.char.decode(values, "utf-8") if values.dtype.kind == "S" else values


def numbers_bytes(path, sweep):
    with h5py.File(path, "r") as f:
        g = f[f"sweeps/{sweep}"]
        if int(f.attrs["schema_version"]) == 1:
            runs = len(g["index/run_id"])
            run = g["runs"][g["index/run_id"][0].decode()]
            series = sum(d.size for d in run["trajectory"].values())
            series += sum(d.size for k, d in run["theory"].items() if k not in ("step", "t"))
            results = len(g["index/result"])
            weights = 2 * run["init/W0"].size
            spectrum = run["spectrum/eigenvalues"].size
        else:
            runs = len(g["run"])
            series = sum(int(np.prod(d.shape[1:])) for d in g.values()
                         if isinstance(d, h5py.Dataset) and d.ndim >= 2 and d.shape[0] == runs)
            results = sum(1 for k, d in g.items() if isinstance(d, h5py.Dataset) and d.ndim == 1
                          and k not in ("run", "status") and "coordinates" in d.attrs)
            blocks = [d for k, d in g["weights"].items() if k.startswith(("W0_", "W_"))]
            weights = sum(d.size for d in blocks) / runs
            spectrum = max(d.shape[1] for k, d in g["spectrum"].items()
                           if k.startswith("eigenvalues_"))
    return int(runs * (series + results + weights + spectrum) * 8)


def timed(f):
    best = None
    for _ in range(3):
        start = time.perf_counter()
        value = f()
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
        if seconds > 5:
            break
    return best, value


def h5py_results(path, sweep):
    with h5py.File(path, "r") as f:
        g = f[f"sweeps/{sweep}"]
        if int(f.attrs["schema_version"]) == 1:
            columns = {"run_id": g["index/run_id"], "status": g["status"]}
            columns.update(g["index/config"].items())
            columns.update(g["index/result"].items())
        else:
            runs = len(g["run"])
            columns = {k: d for k, d in g.items()
                       if isinstance(d, h5py.Dataset) and d.shape == (runs,)}
        return pd.DataFrame({k: text(d[()]) for k, d in columns.items()})


def h5py_loss(path, sweep, limit):
    with h5py.File(path, "r") as f:
        g = f[f"sweeps/{sweep}"]
        if int(f.attrs["schema_version"]) == 2:
            return g["gd_loss"][()]
        runs = g["runs"]
        ids = g["index/run_id"][:limit]
        return np.stack([runs[i.decode()]["trajectory/loss"][()] for i in ids])


def reader(src, path):
    """SRC's ssldyn.store if it reads this store's schema, else None."""
    sys.path.insert(0, os.path.join(src, "analysis"))
    try:
        module = importlib.import_module("ssldyn.store")
    except ImportError:
        return None
    if getattr(module, "SCHEMA_VERSION", None) != schema(path):
        return None
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store")
    parser.add_argument("sweep")
    parser.add_argument("--analysis", default=None, help="source root holding analysis/ssldyn/")
    parser.add_argument("--trajectory-limit", type=int, default=10_000)
    parser.add_argument("--numbers-only", action="store_true")
    parser.add_argument("--schema-only", action="store_true")
    args = parser.parse_args()
    if args.schema_only:
        print(schema(args.store))
        return
    if args.numbers_only:
        print(numbers_bytes(args.store, args.sweep))
        return
    src = args.analysis or __file__.rsplit("/bench/", 1)[0]
    version = schema(args.store)

    seconds, frame = timed(lambda: h5py_results(args.store, args.sweep))
    print(f"h5py: {frame.shape[0]} runs x {frame.shape[1]} columns into a DataFrame: "
          f"{seconds:.3f} s")
    limit = args.trajectory_limit if version == 1 else None
    seconds, loss = timed(lambda: h5py_loss(args.store, args.sweep, limit))
    print(f"h5py: GD loss of {loss.shape[0]} runs x {loss.shape[1]} records: {seconds:.3f} s")

    module = reader(src, args.store)
    if module is None:
        print(f"analysis/ssldyn/store.py of {src}: does not read schema {version}")
        return

    def with_sweep(read):
        with module.Store(args.store) as store:
            return read(store.sweep(args.sweep))

    if hasattr(module.Sweep, "to_dataframe"):
        seconds, frame = timed(lambda: with_sweep(lambda sweep: sweep.to_dataframe()))
        print(f"ssldyn.store Sweep.to_dataframe(): {frame.shape[0]} runs x {frame.shape[1]} "
              f"columns: {seconds:.3f} s")
    if hasattr(module.Sweep, "series"):
        seconds, loss = timed(lambda: with_sweep(lambda sweep: sweep.series("gd_loss").values))
        print(f"ssldyn.store Sweep.series('gd_loss'): {loss.shape[0]} runs x {loss.shape[1]} "
              f"records: {seconds:.3f} s")
    if version == 1:
        def trajectories(sweep):
            n = min(len(sweep), args.trajectory_limit)
            return np.stack([sweep.run(row).trajectory["loss"] for row in range(n)])

        seconds, loss = timed(lambda: with_sweep(trajectories))
        print(f"ssldyn.store run.trajectory['loss'] of {loss.shape[0]} runs (index read "
              f"included): {seconds:.3f} s")


if __name__ == "__main__":
    main()
