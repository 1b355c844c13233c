"""Reads an ssldyn store through its schema (README, "The HDF5 store").

    from analysis.store import Store
    with Store("results/quickstart-orthogonal.h5") as store:
        for run in store.runs():
            print(run.id, run.config["dynamics"], run.trajectory["effective_rank"][-1])
"""

import h5py
import numpy as np

SCHEMA_VERSION = 1
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")


class StoreError(Exception):
    """The file is not an ssldyn store of a schema this code reads."""


class Run:
    """One run: its config (dict of strings), attributes, and the two recorded sides."""

    def __init__(self, sweep, run_id, group):
        self.sweep = sweep
        self.id = run_id
        self.attrs = {k: _text(v) for k, v in group.attrs.items()}
        self.config = {k: _text(v) for k, v in group["config"].attrs.items()}
        self.trajectory = {k: np.asarray(v) for k, v in group["trajectory"].items()}
        self.theory = {k: np.asarray(v) for k, v in group["theory"].items()}
        self.w0 = np.asarray(group["init/W0"])
        self.spectrum = np.asarray(group["spectrum/eigenvalues"])

    @property
    def status(self):
        return self.attrs["status"]


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

    def runs(self, sweep=None):
        for name in [sweep] if sweep else self.sweeps():
            for run_id, group in self._file[f"sweeps/{name}/runs"].items():
                yield Run(name, run_id, group)


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
