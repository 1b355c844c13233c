"""A store read with h5py alone, by the paths of README "The HDF5 store" (schema 2): what the
tests hold ssldyn's output and ssldyn.store against. It knows the layout, nothing of
analysis/.

    with RawStore(path) as raw:
        grid = raw.sweep("grid")
        run = grid.run(grid.row(run_id))      # {dataset: the run's part of it}
        run["gd_loss"], run["theory_singular_values"], run["W0"], run["eigenvalues"]
"""

import h5py
import numpy as np

STATUS = {0: "pending", 1: "running", 2: "done", 3: "failed"}
DIMENSIONS = ("run", "record", "component")
# The blocks a run indexes by weights/ or spectrum/ block and slot, by the name run() gives them.
BLOCKS = {"W0": "weights/W0", "W": "weights/W", "eigenvalues": "spectrum/eigenvalues"}


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def printed(value):
    """A setting as ssldyn prints it in its config text (config/run_config.cpp): integers in
    decimal, booleans true/false, numbers with the fewest significant digits of %g (6 to 17)
    that read back to the same double, text as it is."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        for digits in range(6, 18):
            out = "%.*g" % (digits, value)
            if float(out) == value:
                return out
        return out
    return text(value)


class RawSweep:
    """One sweep group: run ids, statuses, settings, results, and each run's part of the
    sweep's datasets."""

    def __init__(self, group):
        self.group = group
        self.ids = [text(x) for x in group["run"][()]]
        self.settings = text(group["status"].attrs["coordinates"]).split()
        self._arrays = {}

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, name):
        """A dataset of the sweep, whole (read once)."""
        if name not in self._arrays:
            self._arrays[name] = self.group[name][()]
        return self._arrays[name]

    def row(self, run_id):
        return self.ids.index(run_id)

    def status(self, row):
        return STATUS[int(self["status"][row])]

    def results(self):
        """Names of the result columns: the datasets along run other than the settings."""
        return [name for name, item in self.group.items()
                if isinstance(item, h5py.Dataset) and item.ndim == 1
                and name not in self.settings and name not in DIMENSIONS and name != "status"]

    def setting(self, key, row):
        value = self[key][row]
        return text(value) if isinstance(value, bytes) else value

    def config(self, row):
        """Every setting of the run, as ssldyn prints it."""
        return {key: printed(self.setting(key, row)) for key in self.settings}

    def result(self, column, row):
        value = self[column][row]
        return text(value) if isinstance(value, bytes) else value

    def records(self, row):
        """The run's record count: step 0, every record_every steps, and the last step."""
        steps, every = int(self["steps"][row]), int(self["record_every"][row])
        return 1 + steps // every + (steps % every != 0)

    def slot(self, block, row):
        """(dataset, slot) of the run's weights or spectrum block (BLOCKS)."""
        group, name = BLOCKS[block].split("/")
        return (f"{group}/{name}_{int(self[group + '/block'][row])}",
                int(self[group + "/slot"][row]))

    def run(self, row):
        """{name: the run's part}: each series (run, record[, component]) cut to the run's
        records (and k components), each (run, component) result cut to k, W0, W,
        checkpoint_step and eigenvalues (its block slots)."""
        records, k = self.records(row), int(self["k"][row])
        out = {}
        for name, item in self.group.items():
            if not isinstance(item, h5py.Dataset) or item.ndim < 2:
                continue
            if item.ndim == 2 and "component" in item.dims[1].keys():
                out[name] = self[name][row, :k]  # (run, component): rise_time, ...
            else:
                values = self[name][row, :records]
                out[name] = values[:, :k] if values.ndim == 2 else values
        for block in BLOCKS:
            name, slot = self.slot(block, row)
            out[block] = self[name][slot]
        out["checkpoint_step"] = int(self["weights/checkpoint_step"][row])
        return out

    def record(self, row, step):
        """Index of the record at `step` in the run's series."""
        found = np.flatnonzero(self["step"][row] == step)
        assert len(found) == 1, (self.ids[row], step)
        return int(found[0])


class RawStore:
    def __init__(self, path, **options):
        self.f = h5py.File(path, "r", **options)
        self._sweeps = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.f.close()

    def sweeps(self):
        return list(self.f["sweeps"])

    def sweep(self, name):
        if name not in self._sweeps:
            self._sweeps[name] = RawSweep(self.f[f"sweeps/{name}"])
        return self._sweeps[name]
