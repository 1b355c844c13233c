"""Reads an ssldyn store through its schema (README, "The HDF5 store").

This module is the one place that knows dataset paths; everything else asks it by name.

    from analysis.store import Store
    with Store("results/quickstart.h5") as store:
        for run in store.runs():
            print(run.id, run.status, run.config["dynamics"], run.result["final_effective_rank"])
"""

import functools

import h5py
import numpy as np

SCHEMA_VERSION = 1
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")

STATUS = {0: "pending", 1: "running", 2: "done", 3: "failed"}

# What a sweep group (/sweeps/<sweep>/) must hold for its runs to be listed.
INDEX_PATHS = ("status", "index/run_id", "index/config", "index/result")

# Sections of a run group (/sweeps/<sweep>/runs/<run id>/...), by the name callers use.
SECTIONS = {
    "trajectory": "trajectory",          # gradient descent, one entry per record
    "theory": "theory",                  # the closed-form flow at the same t
    "spectrum": "spectrum/eigenvalues",  # eigenvalues of C, descending
    "init": "init/W0",                   # initial weights
    # Two-layer runs (THEORY 4.3/4.4), per record next to trajectory/: network/output_deviation
    # (||f - f_lin|| / ||f_lin|| at the same weights), network/{loss,gram,projector}_deviation
    # (against the paired linear run), network/weight_change, network/kernel_change,
    # network/tangent_kernel_change, network/w{1,2}_orthogonality_error. The settings live with
    # every other one, in index/config: WIDTH_KEY (hidden width h), ACTIVATION_KEY (sigma), and
    # model = SUPERVISED_MODEL for the supervised NTK baseline.
    "network": "network",
}
WIDTH_KEY = "h"
ACTIVATION_KEY = "activation"
PRECISION_KEY = "precision"  # float64 unless a run says float32 (absent in older stores)
SUPERVISED_MODEL = "supervised"


class StoreError(Exception):
    """The file is not an ssldyn store of a schema this code reads."""


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
        self.status = [STATUS.get(int(x), "unknown") for x in group["status"][()]]
        self.config = {k: [_text(x) for x in v[()]] for k, v in group["index/config"].items()}
        self.result = {}
        for name, column in group["index/result"].items():
            values = column[()]
            self.result[name] = [_text(x) for x in values] if values.dtype.kind == "S" else values

    def __len__(self):
        return len(self.run_ids)

    def row_config(self, row):
        """Every setting of one run, from the index (strings)."""
        return {key: values[row] for key, values in self.config.items()}


class Run:
    """One run: config (dict of strings), its index row, and its recorded sections.

    Sections are read when first asked for, so listing a large sweep stays cheap; a section
    the store lacks reads as empty ({} or None) and `has()` says so."""

    def __init__(self, sweep, row, index, group):
        self.sweep = sweep
        self.row = row
        self.id = index.run_ids[row]
        self.status = index.status[row]
        self._group = group
        if group is not None and "config" in group.attrs:
            self.config = parse_config(_text(group.attrs["config"]))
        else:
            self.config = index.row_config(row)
        self.result = {name: column[row] for name, column in index.result.items()}

    def has(self, section, name=None):
        """Whether the store holds this section of the run (and dataset `name` within it)."""
        if self._group is None:
            return False
        path = SECTIONS[section] + (f"/{name}" if name else "")
        return path in self._group

    def _series(self, section):
        if not self.has(section):
            return {}
        group = self._group[SECTIONS[section]]
        return {k: np.asarray(v) for k, v in group.items() if isinstance(v, h5py.Dataset)}

    @functools.cached_property
    def trajectory(self):
        return self._series("trajectory")

    @functools.cached_property
    def theory(self):
        return self._series("theory")

    @functools.cached_property
    def network(self):
        return self._series("network")

    @functools.cached_property
    def w0(self):
        return np.asarray(self._group[SECTIONS["init"]]) if self.has("init") else None

    @functools.cached_property
    def spectrum(self):
        return np.asarray(self._group[SECTIONS["spectrum"]]) if self.has("spectrum") else None


class Sweep:
    """A sweep: its attributes (config text, axes, provenance), its index and its runs."""

    def __init__(self, name, group):
        self.name = name
        self._group = group
        missing = [p for p in INDEX_PATHS if p not in group]
        if missing:
            raise StoreError(f"sweep {name} lacks {', '.join(missing)} (written by an older ssldyn?)")
        self.index = Index(group)
        self.attrs = {k: _text(v) if isinstance(v, bytes) else v for k, v in group.attrs.items()}
        self.axes = [a for a in str(self.attrs.get("axes", "")).split(",") if a]
        self.axis_values = {k: [_text(x) for x in v[()]] for k, v in group.get("axes", {}).items()}
        self._runs = {}

    def __len__(self):
        return len(self.index)

    def run(self, row):
        # One Run per row, so each figure reuses what another has read already.
        if row not in self._runs:
            run_id = self.index.run_ids[row]
            self._runs[row] = Run(self.name, row, self.index, self._group.get(f"runs/{run_id}"))
        return self._runs[row]

    def runs(self):
        return [self.run(row) for row in range(len(self.index))]


class Store:
    def __init__(self, path):
        try:
            self._file = h5py.File(path, "r")
        except OSError as e:
            raise StoreError(f"{path}: cannot open as HDF5 ({e})") from None
        version = self._file.attrs.get("schema_version")
        if version is None:
            self._file.close()
            raise StoreError(f"{path}: not an ssldyn store (no schema_version)")
        try:  # an integer, as ssldyn writes it (text is another schema, not a number to parse)
            number = None if isinstance(version, (str, bytes)) else int(version)
        except (TypeError, ValueError):
            number = None
        if number != SCHEMA_VERSION:
            self._file.close()
            shown = number if number is not None else repr(_text(version) if isinstance(
                version, bytes) else version)
            raise StoreError(f"{path}: schema_version {shown}, this code reads {SCHEMA_VERSION}")
        self.path = path
        self.attrs = {k: _text(v) if isinstance(v, bytes) else v for k, v in self._file.attrs.items()}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._file.close()

    def sweeps(self):
        return list(self._file.get("sweeps", {}))

    def sweep(self, name):
        if name not in self._file.get("sweeps", {}):
            raise StoreError(f"{self.path}: no sweep named {name}")
        return Sweep(name, self._file[f"sweeps/{name}"])

    def index(self, sweep):
        return Index(self._file[f"sweeps/{sweep}"])

    def runs(self, sweep=None):
        for name in [sweep] if sweep else self.sweeps():
            yield from self.sweep(name).runs()


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
