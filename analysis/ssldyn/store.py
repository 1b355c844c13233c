"""Reads an ssldyn store through its schema (README, "The HDF5 store"; schema 2).

This module is the one place that knows dataset paths; everything else asks it by name. A sweep
is a set of arrays with one row per run, in plan order: its settings, status and final results
(run), its series (run x record; singular values run x record x component), and blocks of
weights and spectra in which each run has a slot (weights/ and spectrum/: block and slot per
run). Each array is read whole the first time it is asked for and kept with its Sweep; a run's
values are its row of them, so a figure over 10^5 runs costs a few reads, not 10^5.

    from ssldyn.store import Store
    with Store("results/quickstart.h5") as store:
        sweep = store.sweep("quickstart")
        table = sweep.to_dataframe()        # pandas: one row per run, typed settings and results
        history = sweep.events()            # pandas: the jobs that started, resumed, merged it
        loss = sweep.series("loss")         # loss.values, loss.t, loss.step: runs x records
        data = sweep.to_xarray()            # xarray (h5netcdf): dims run, record, component
        for run in sweep.runs():
            print(run.id, run.status, run.config["dynamics"], run.result["final_effective_rank"])

A run's config is a dict of strings, each setting as ssldyn prints it in a config; its sections
(trajectory, theory, network) are dicts of arrays cut to the run's own records (and its k
singular values); w0, w and spectrum are its slots of the blocks. Schema-1 stores (a group per
run) are refused, naming `ssldyn upgrade OLD.h5 --store NEW.h5`, which converts them.
"""

import functools
from dataclasses import dataclass

import h5py
import numpy as np

SCHEMA_VERSION = 2
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")

STATUS = ("pending", "running", "done", "failed")  # status codes 0, 1, 2, 3

# What a sweep group (/sweeps/<sweep>/) must hold for its runs to be listed.
INDEX_PATHS = ("run", "status")
DIMENSIONS = ("run", "record", "component")
COMPONENT_DIMENSION = "component"
EVENTS_GROUP = "events"  # the sweep's history: Sweep.events()

# Sections of a run by the name callers use. trajectory, theory and network are per-record
# series of the sweep group, one row per run, named with a prefix:
#   trajectory  gradient descent: gd_<metric>, gd_singular_values, gd_modes (||W v_i||, v_i
#               the eigenvectors of C, THEORY 6.5), and theory_distance
#   theory      the closed-form flow at the same t: theory_<metric>, theory_singular_values,
#               theory_modes
#   network     two-layer runs (THEORY 4.3/4.4): network_<m>, e.g. network_output_deviation
#               (||f - f_lin|| / ||f_lin|| at the same weights), network_{loss,gram,projector}_
#               deviation (against the paired linear run), network_weight_change,
#               network_kernel_change, network_tangent_kernel_change,
#               network_w{1,2}_orthogonality_error
# (trajectory and theory share `step` and `t`); spectrum and init are blocks of the
# spectrum/ and weights/ groups (the eigenvalues of C, the initial weights W0).
SECTIONS = {"trajectory": "gd_", "theory": "theory_", "network": "network_",
            "spectrum": "spectrum/", "init": "weights/"}
SHARED_SERIES = ("step", "t")
THEORY_DISTANCE = "theory_distance"  # gradient descent's distance to the flow: trajectory's
# The settings live with every other one, one dataset per key: WIDTH_KEY (hidden width h),
# ACTIVATION_KEY (sigma), and model = SUPERVISED_MODEL for the supervised NTK baseline.
WIDTH_KEY = "h"
ACTIVATION_KEY = "activation"
PRECISION_KEY = "precision"  # float64 unless a run says float32
MODEL_KEY = "model"
LINEAR_MODEL = "linear"  # records no network section
SUPERVISED_MODEL = "supervised"

# A weights block larger than this is read one run's slot at a time instead of whole: its
# slots are many runs' weights, most of which a figure never asks for.
WHOLE_BLOCK_BYTES = 64 << 20


class StoreError(Exception):
    """The file is not an ssldyn store of a schema this code reads."""


def shortest_text(value):
    """A number as ssldyn prints it (core/format.cpp): %g with the fewest significant digits,
    from 6 to 17, that read back to the same double."""
    for precision in range(6, 18):
        text = "%.*g" % (precision, value)
        if float(text) == value:
            break
    return text


@dataclass(frozen=True)
class Series:
    """One metric of every run of a sweep: values (runs x records, or runs x records x
    components for singular values), NaN where a run has no record, and the time t and step
    of each record (step -1 where a run has none)."""
    values: np.ndarray
    t: np.ndarray
    step: np.ndarray


class Index:
    """A sweep's index table: one row per run, its settings as text and its results."""

    def __init__(self, sweep):
        self._sweep = sweep
        self.run_ids = sweep.run_ids
        self.status = [STATUS[c] if 0 <= c < len(STATUS) else "unknown"
                       for c in sweep.status_codes.tolist()]

    def __len__(self):
        return len(self.run_ids)

    @functools.cached_property
    def config(self):
        """{setting: its value of each run, as ssldyn prints it}"""
        return {key: self._sweep.setting_text(key).tolist() for key in self._sweep.settings}

    @functools.cached_property
    def result(self):
        """{result column: array of numbers, or list of text}"""
        out = {}
        for name in self._sweep.results:
            values = self._sweep.column(name)
            out[name] = values.tolist() if values.dtype == object else values
        return out

    def row_config(self, row):
        """Every setting of one run, from the index (strings)."""
        return {key: values[row] for key, values in self.config.items()}


class Run:
    """One run: config (dict of strings), status, results, and its recorded sections, each
    its row of the sweep's arrays; a section the store lacks reads as empty ({} or None) and
    `has()` says so."""

    def __init__(self, sweep, row):
        self._sweep = sweep
        self.sweep = sweep.name
        self.row = row
        self.id = sweep.index.run_ids[row]
        self.status = sweep.index.status[row]

    @functools.cached_property
    def config(self):
        return self._sweep.index.row_config(self.row)

    @functools.cached_property
    def result(self):
        return {name: column[self.row] for name, column in self._sweep.index.result.items()}

    def has(self, section, name=None):
        """Whether the store holds this section of the run (and dataset `name` within it)."""
        if section in ("spectrum", "init"):
            return self._sweep.block_of(section, self.row) is not None
        if section == "network" and not self._sweep.is_network(self.row):
            return False
        datasets = self._sweep.section(section)
        return bool(datasets) and (name is None or name in datasets)

    def _series(self, section):
        if not self.has(section):
            return {}
        records, components = self._sweep.extent(self.row)
        out = {}
        for name, dataset in self._sweep.section(section).items():
            values = self._sweep.column(dataset)[self.row, :records]
            out[name] = values[:, :components] if values.ndim == 2 else values
        return out

    @functools.cached_property
    def components(self):
        """{name: its k values}: the results per eigen-direction (run, component), rise_time
        and rise_time_predicted (THEORY 6.5); {} for a store written before them."""
        _, k = self._sweep.extent(self.row)
        return {name: self._sweep.column(name)[self.row, :k]
                for name in self._sweep.component_results}

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
        """Initial weights (rows x cols, the model's state layout), or None."""
        return self._sweep.weights("W0", self.row)

    @functools.cached_property
    def w(self):
        """The saved weights: a done run's final ones (after checkpoint_step steps), NaN for a
        failed run; or None."""
        return self._sweep.weights("W", self.row)

    @functools.cached_property
    def checkpoint_step(self):
        """Steps the saved weights hold (-1: none)."""
        return int(self._sweep.column("weights/checkpoint_step")[self.row])

    @functools.cached_property
    def spectrum(self):
        """Eigenvalues of C, descending, or None."""
        block = self._sweep.block_of("spectrum", self.row)
        return None if block is None else self._sweep.whole(block[0])[block[1]]


class Sweep:
    """A sweep: its attributes (config text, axes, provenance), its index and its runs, and its
    arrays whole (to_dataframe, series, to_xarray); where() gives a view of some of its runs
    with the same methods."""

    def __init__(self, path, name, group, store=None):
        self.path = path
        self.name = name
        self._group = group
        self._store = store
        self.rows = None  # all runs; a view's rows of the sweep, ascending
        self._whole = {}  # datasets read whole, shared with the sweep's views
        missing = [p for p in INDEX_PATHS if p not in group]
        if missing:
            raise StoreError(f"sweep {name} lacks {', '.join(missing)} (not an ssldyn sweep of "
                             f"schema {SCHEMA_VERSION})")
        self.attrs = {k: _text(v) if isinstance(v, bytes) else v for k, v in group.attrs.items()}
        self.axes = [a for a in str(self.attrs.get("axes", "")).split(",") if a]
        self._arrays = {}
        self._runs = {}
        self._classify()

    def _classify(self):
        """Sort the sweep's datasets by their dimensions: settings (named by the `coordinates`
        attribute of the others) and results along run, series along run and record."""
        status = self._group["status"]
        listed = _text(status.attrs.get("coordinates", "")).split()
        self.settings, self.results, self._series_names = [], [], []
        self.component_results = []  # (run, component): rise_time, rise_time_predicted
        for name, item in self._group.items():
            if not isinstance(item, h5py.Dataset) or name in DIMENSIONS or name == "status":
                continue
            if item.ndim == 1:
                (self.settings if name in listed else self.results).append(name)
            elif item.ndim == 2 and COMPONENT_DIMENSION in item.dims[1].keys():
                self.component_results.append(name)
            else:
                self._series_names.append(name)
        # The settings in the writer's order (the config table's), not the file's.
        self.settings.sort(key=lambda key: listed.index(key))

    def __len__(self):
        return len(self.run_ids)

    def column(self, name):
        """A dataset of the sweep group along run, read once and kept (read-only: the runs'
        values are views of it); a view's rows of it."""
        if name not in self._arrays:
            values = self.whole(name)
            if self.rows is not None:
                values = values[self.rows]
                values.flags.writeable = False
            self._arrays[name] = values
        return self._arrays[name]

    def whole(self, name):
        """A dataset of the sweep group, every row (blocks of weights and spectra are indexed
        by slot, not run), read once and kept read-only."""
        if name not in self._whole:
            values = self._read(name)
            values.flags.writeable = False
            self._whole[name] = values
        return self._whole[name]

    def _read(self, name):
        """A dataset of the sweep group: numbers as numpy arrays, booleans as bool, text
        decoded to an object array of str."""
        dataset = self._group[name]
        values = dataset[()]
        if values.dtype.kind == "S":
            return _decoded(values)
        return values.astype(bool) if _is_boolean(dataset.dtype) else values

    def _own(self, name):
        """A column the caller may change: the kept one copied, else read afresh."""
        if name in self._arrays or self.rows is not None:
            return self.column(name).copy()
        return self._read(name)

    def where(self, expression):
        """The runs satisfying an expression of `ssldyn query --where` (README, "`ssldyn ls`
        and `ssldyn query`"; e.g. "k in (2, 4) and loss == 'contrastive'"), as a view: a Sweep
        of those runs, in plan order. Names and values are checked against every sweep of the
        store, as the command line does; a mistake raises ValueError naming the token and its
        position."""
        from . import where
        tree = where.parse(expression)
        base = self._base
        sweeps = ([self._store.sweep(n) for n in self._store.sweeps()] if self._store
                  else [base])
        columns = where.StoreColumns(sweeps)
        where.check(tree, columns, expression)
        rows = np.arange(len(base)) if self.rows is None else self.rows
        return self._view(rows[where.matches(tree, columns, base, rows)])

    @property
    def _base(self):
        """The sweep of all runs this one is (a view of)."""
        return self._parent if self.rows is not None else self

    def _view(self, rows):
        view = Sweep.__new__(Sweep)
        view.__dict__.update(path=self.path, name=self.name, _group=self._group,
                             _store=self._store, attrs=self.attrs, axes=self.axes,
                             settings=self.settings, results=self.results,
                             component_results=self.component_results,
                             _series_names=self._series_names, _whole=self._whole,
                             _parent=self._base, rows=rows, _arrays={}, _runs={})
        return view

    @functools.cached_property
    def run_ids(self):
        return self.column("run").tolist()

    @functools.cached_property
    def status_codes(self):
        return self.column("status").astype(np.int64)

    @functools.cached_property
    def index(self):
        return Index(self)

    @functools.cached_property
    def axis_values(self):
        """{axis: its distinct values as text, in order of appearance}"""
        return {a: list(dict.fromkeys(self.index.config[a])) for a in self.axes
                if a in self.index.config}

    def setting_text(self, key):
        """A setting of every run as ssldyn prints it: integers in decimal, numbers as the
        shortest %g that reads back (shortest_text), booleans true/false, text as it is."""
        values = self.column(key)
        if values.dtype == object:
            return values
        distinct, inverse = np.unique(values, return_inverse=True)
        if values.dtype == bool:
            printed = ["true" if v else "false" for v in distinct.tolist()]
        elif values.dtype.kind in "iu":
            printed = [str(v) for v in distinct.tolist()]
        else:
            printed = [shortest_text(v) for v in distinct.tolist()]
        return np.array(printed, dtype=object)[inverse.reshape(-1)]

    def section(self, section):
        """{name callers use: dataset} of a series section (SECTIONS); {} if the store has none."""
        return self._sections[section]

    @functools.cached_property
    def _sections(self):
        out = {}
        for section in ("trajectory", "theory", "network"):
            prefix = SECTIONS[section]
            names = {n[len(prefix):]: n for n in self._series_names
                     if n.startswith(prefix) and n != THEORY_DISTANCE}
            if names and section != "network":
                names.update({n: n for n in SHARED_SERIES if n in self._series_names})
                if section == "trajectory" and THEORY_DISTANCE in self._series_names:
                    names[THEORY_DISTANCE] = THEORY_DISTANCE
            out[section] = names
        return out

    @functools.cached_property
    def _extents(self):
        """Records and singular values of each run: the series' length for its steps and
        record_every (the step 0 record, every record_every steps, and the last step), k."""
        record_dim = self._group["record"].shape[0] if "record" in self._group else 0
        component_dim = self._group["component"].shape[0] if "component" in self._group else 0
        if "steps" in self.settings and "record_every" in self.settings:
            steps, every = self.column("steps"), self.column("record_every")
            with np.errstate(divide="ignore", invalid="ignore"):
                records = 1 + steps // np.maximum(every, 1) + (steps % np.maximum(every, 1) != 0)
            records = np.minimum(records, record_dim)
        else:
            records = np.full(len(self), record_dim)
        k = self.column("k") if "k" in self.settings else np.full(len(self), component_dim)
        return records.tolist(), np.minimum(k, component_dim).tolist()

    def extent(self, row):
        """(records, components) of the run at row."""
        return self._extents[0][row], self._extents[1][row]

    def is_network(self, row):
        return MODEL_KEY not in self.settings or self.column(MODEL_KEY)[row] != LINEAR_MODEL

    def block_of(self, section, row):
        """(block dataset, slot) holding the run's spectrum or initial weights, or None."""
        group, stem = {"spectrum": ("spectrum", "eigenvalues"), "init": ("weights", "W0")}[section]
        return self._block(group, stem, row)

    def _block(self, group, stem, row):
        if not all(f"{group}/{n}" in self._group for n in ("block", "slot")):
            return None
        block = int(self.column(f"{group}/block")[row])
        name = f"{group}/{stem}_{block}"
        if block < 0 or name not in self._group:
            return None
        return name, int(self.column(f"{group}/slot")[row])

    def weights(self, stem, row):
        """The run's slot of its block weights/W0_<b> or weights/W_<b>, or None."""
        found = self._block("weights", stem, row)
        if found is None:
            return None
        name, slot = found
        dataset = self._group[name]
        if name in self._whole or dataset.size * dataset.dtype.itemsize <= WHOLE_BLOCK_BYTES:
            return self.whole(name)[slot]
        return dataset[slot]

    def run(self, row):
        # One Run per row, so each figure reuses what another has read already.
        if row not in self._runs:
            self._runs[row] = Run(self, row)
        return self._runs[row]

    def runs(self):
        return [self.run(row) for row in range(len(self))]

    def to_dataframe(self):
        """One row per run, indexed by run id: every setting (int64, float64, bool or str),
        status (categorical: pending, running, done, failed) and every result column."""
        import pandas as pd

        # Columns of the frame's own, taken as they are instead of consolidated into 2-d
        # blocks (copy=False): several times faster for 10^5 runs.
        columns = {key: self._own(key) for key in self.settings}
        codes = self.status_codes
        columns["status"] = pd.Categorical.from_codes(
            np.where((codes >= 0) & (codes < len(STATUS)), codes, -1), categories=STATUS)
        columns.update({name: self._own(name) for name in self.results})
        return pd.DataFrame(columns, index=pd.Index(self._own("run"), name="run"), copy=False)

    def series(self, metric, theory=False):
        """One metric of every run (Series: values, t, step; runs x records, NaN padded).
        metric: a gradient-descent metric ("loss", or "trajectory/loss"), "theory/<metric>",
        "theory_distance", "network/<m>", "singular_values", "modes" (runs x records x
        components), their "theory/" ones, or
        a dataset's own name ("gd_loss", "theory_loss", "network_kernel_change").
        theory=True: the flow's series of the metric (series("loss", theory=True) is
        series("theory/loss")), at the same t."""
        if theory:
            metric = "theory/" + metric.rpartition("/")[2]
        dataset = self._series_dataset(metric)
        return Series(self.column(dataset), self.column("t"), self.column("step"))

    def _series_dataset(self, metric):
        if metric in self._series_names:
            return metric
        section, _, name = metric.rpartition("/")
        for candidate in [section] if section else ["trajectory", "network"]:
            found = self._sections.get(candidate, {}).get(name)
            if found:
                return found
        known = sorted(f"{s}/{n}" for s in self._sections for n in self._sections[s])
        raise KeyError(f"sweep {self.name} has no series {metric!r} (it has: {', '.join(known)})")

    def events(self):
        """The sweep's history (events/): one row per job that started, resumed, merged or
        upgraded it, indexed by event number (a run's `event` result names the one that ran
        it). started and ended are UTC timestamps (NaT: still running, or killed), the text
        columns str; kind, end, hosts, ranks, group_size, blas_threads, blas_library, the
        SLURM ids, user, command, program_version, git_commit, mpi_library, hdf5_library. No
        rows for a sweep written before ssldyn kept its events."""
        import pandas as pd

        group = self._group.get(EVENTS_GROUP)
        if group is None:
            return pd.DataFrame(index=pd.Index([], dtype=np.int64, name="event"))
        numbers = group["event"][()]
        columns = {}
        for name, item in group.items():
            if name == "event":
                continue
            values = item[:len(numbers)]
            if values.dtype.kind == "O":
                values = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v
                          for v in values]
            elif _text(item.attrs.get("units", "")).startswith("seconds since 1970-01-01"):
                values = pd.to_datetime(values, unit="s", utc=True)
            columns[name] = values
        return pd.DataFrame(columns, index=pd.Index(numbers, name="event"))

    def to_xarray(self):
        """The sweep as an xarray.Dataset (dims run, record, component; the settings are
        coordinates along run), opened lazily from the file by h5netcdf."""
        try:
            import h5netcdf  # noqa: F401  (xarray's engine, checked here for a clear message)
            import xarray
        except ImportError as e:
            raise ImportError(f"Sweep.to_xarray needs xarray and h5netcdf ({e}; Debian: "
                              "python3-xarray python3-h5netcdf)") from e
        data = xarray.open_dataset(self.path, group=f"sweeps/{self.name}", engine="h5netcdf")
        return data if self.rows is None else data.isel(run=self.rows)


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
            if number == 1:  # as ssldyn says it (store/sweep_store.cpp)
                raise StoreError(f"{path}: store has schema_version 1 (a group per run), this "
                                 f"code reads {SCHEMA_VERSION}; convert it with `ssldyn upgrade "
                                 f"{path} --store NEW.h5`")
            shown = number if number is not None else repr(_text(version) if isinstance(
                version, bytes) else version)
            raise StoreError(f"{path}: schema_version {shown}, this code reads {SCHEMA_VERSION}")
        self.path = path
        self.attrs = {k: _text(v) if isinstance(v, bytes) else v for k, v in self._file.attrs.items()}
        self._sweeps = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._file.close()

    def sweeps(self):
        return list(self._file.get("sweeps", {}))

    def sweep(self, name):
        if name not in self._sweeps:
            if name not in self._file.get("sweeps", {}):
                raise StoreError(f"{self.path}: no sweep named {name}")
            self._sweeps[name] = Sweep(self.path, name, self._file[f"sweeps/{name}"], self)
        return self._sweeps[name]

    def index(self, sweep):
        return self.sweep(sweep).index

    def runs(self, sweep=None):
        for name in [sweep] if sweep else self.sweeps():
            yield from self.sweep(name).runs()


def _is_boolean(dtype):
    """HDF5's enum {FALSE = 0, TRUE = 1}, as ssldyn writes booleans."""
    members = h5py.check_enum_dtype(dtype)
    return dtype.kind == "b" or (members is not None and set(members) == {"FALSE", "TRUE"})


def _decoded(values):
    """Fixed-length UTF-8 bytes as an object array of str, each distinct value decoded once
    (a column of 10^5 runs holds a handful: names, hosts, empty failures)."""
    out = np.empty(values.shape, dtype=object)
    if values.size and np.all(values == values.flat[0]):
        out[...] = values.flat[0].decode("utf-8", "replace")
        return out
    # Sorted as raw bytes (void), by memcmp: several times faster than as strings.
    distinct, inverse = np.unique(values.reshape(-1).view(f"V{values.dtype.itemsize}"),
                                  return_inverse=True)
    text = [v.decode("utf-8", "replace") for v in distinct.view(values.dtype).tolist()]
    out[...] = np.array(text, dtype=object)[inverse].reshape(values.shape)
    return out


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
