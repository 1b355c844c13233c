"""Reads an ssldyn store through its schema (README, "The HDF5 store").

    from analysis.store import Store
    with Store("results/quickstart-orthogonal.h5") as store:
        for run in store.runs():
            print(run.id, run.status, run.config["dynamics"], run.result["final_effective_rank"])
"""

import h5py
import numpy as np

SCHEMA_VERSION = 1
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")


class StoreError(Exception):
    """The file is not an ssldyn store of a schema this code reads."""


STATUS = {0: "pending", 1: "running", 2: "done", 3: "failed"}


def parse_config(text):
    """The canonical `key = value` lines of a run's config attribute, as a dict of strings."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


class Index:
    """A sweep's index table: one row per run, config values (strings) and results."""

    def __init__(self, group):
        self.run_ids = [_text(x) for x in group["index/run_id"][()]]
        self.status = [STATUS[int(x)] for x in group["status"][()]]
        self.config = {k: [_text(x) for x in v[()]] for k, v in group["index/config"].items()}
        self.result = {}
        for name, column in group["index/result"].items():
            values = column[()]
            self.result[name] = [_text(x) for x in values] if values.dtype.kind == "S" else values

    def __len__(self):
        return len(self.run_ids)


class Run:
    """One run: config (dict of strings), its index row, and the two recorded sides."""

    def __init__(self, sweep, row, index, group):
        self.sweep = sweep
        self.row = row
        self.id = index.run_ids[row]
        self.status = index.status[row]
        self.config = parse_config(_text(group.attrs["config"]))
        self.result = {name: column[row] for name, column in index.result.items()}
        self.trajectory = {k: np.asarray(v) for k, v in group["trajectory"].items()}
        self.theory = {k: np.asarray(v) for k, v in group["theory"].items()}
        self.w0 = np.asarray(group["init/W0"])
        self.spectrum = np.asarray(group["spectrum/eigenvalues"])


class Store:
    def __init__(self, path):
        try:
            self._file = h5py.File(path, "r")
        except OSError as e:
            raise StoreError(f"{path}: cannot open as HDF5 ({e})") from None
        version = self._file.attrs.get("schema_version")
        if version is None:
            raise StoreError(f"{path}: not an ssldyn store (no schema_version)")
        if int(version) != SCHEMA_VERSION:
            raise StoreError(f"{path}: schema_version {int(version)}, this code reads {SCHEMA_VERSION}")
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._file.close()

    def sweeps(self):
        return list(self._file.get("sweeps", {}))

    def index(self, sweep):
        return Index(self._file[f"sweeps/{sweep}"])

    def runs(self, sweep=None):
        for name in [sweep] if sweep else self.sweeps():
            index = self.index(name)
            for row, run_id in enumerate(index.run_ids):
                yield Run(name, row, index, self._file[f"sweeps/{name}/runs/{run_id}"])


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
