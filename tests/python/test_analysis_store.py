"""ssldyn.store reads what `ssldyn run` and `ssldyn sweep` write (schema 2), each value equal
to the raw dataset read with h5py (raw_store): runs, the sweep as a pandas DataFrame, as series
of every run, and as an xarray Dataset; and it refuses files of another schema."""

import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.environ.get(
    "SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "analysis"))
from ssldyn.store import Store, StoreError  # noqa: E402
from raw_store import RawStore  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

# Runs of two lengths (5 and 7 records) and two k, so that the series are padded past the
# shorter runs' records and the singular values past the smaller k.
SWEEP = """[sweep]
name = tiny
[fixed]
data = spiked
d = 16
n = 200
record_every = 5
[axes]
k = 2, 4
dynamics = orthogonal, naive
steps = 20, 30
"""


def same(a, b):
    """Bit for bit, NaN equal to NaN."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


class AnalysisStoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "s.h5")

    def tearDown(self):
        self.tmp.cleanup()

    def test_reads_a_run(self):
        subprocess.run([BIN, "run", "--data", "spiked", "--d", "10", "--k", "2", "--n", "300",
                        "--steps", "40", "--record_every", "10", "--store", self.path, "-q"],
                       check=True, capture_output=True, env=ENV)
        with Store(self.path) as store:
            self.assertEqual(store.sweeps(), ["single"])
            runs = list(store.runs())
            self.assertEqual(len(runs), 1)
            run = runs[0]
            self.assertEqual(run.status, "done")
            self.assertEqual(run.config["k"], "2")
            self.assertEqual(run.w0.shape, (2, 10))
            np.testing.assert_array_equal(run.trajectory["step"], [0, 10, 20, 30, 40])
            # orthonormal rows from the retraction: round-off only
            np.testing.assert_allclose(run.w0 @ run.w0.T, np.eye(2), atol=1e-13)

    def test_config_as_ssldyn_prints_it(self):
        # Numbers whose shortest %g differs from Python's repr (100000 against 100000.0) or
        # takes an exponent (1e-05): the run's config equals the canonical text ssldyn wrote.
        subprocess.run([BIN, "run", "--data", "spiked", "--d", "10", "--k", "2", "--n", "300",
                        "--steps", "4", "--bulk", "100000", "--sigma_aug", "0.00001",
                        "--eta_rel", "0.15", "--centre", "false", "--store", self.path, "-q"],
                       check=True, capture_output=True, env=ENV)
        with h5py.File(self.path, "r") as f:
            text = f["sweeps/single"].attrs["config"]
        canonical = dict(line.split(" = ", 1) for line in
                         (text.decode() if isinstance(text, bytes) else text).splitlines())
        with Store(self.path) as store:
            config = store.sweep("single").run(0).config
        self.assertEqual(canonical["bulk"], "100000")
        self.assertEqual(canonical["sigma_aug"], "1e-05")
        self.assertEqual(canonical["centre"], "false")
        self.assertEqual({k: v for k, v in config.items() if k in canonical}, canonical)

    def test_refuses_other_schemas(self):
        with h5py.File(self.path, "w") as f:
            f.attrs["schema_version"] = 99
        with self.assertRaisesRegex(StoreError, "schema_version 99"):
            Store(self.path)
        with h5py.File(self.path, "w") as f:
            f.create_group("x")
        with self.assertRaisesRegex(StoreError, "not an ssldyn store"):
            Store(self.path)

    def test_refuses_a_schema_1_store_naming_the_upgrade(self):
        with h5py.File(self.path, "w") as f:
            f.attrs["schema_version"] = np.int64(1)
            f.create_group("sweeps/grid/runs/0123456789abcdef/trajectory")
        with self.assertRaises(StoreError) as caught:
            Store(self.path)
        message = str(caught.exception)
        self.assertIn(self.path, message)
        self.assertIn(f"`ssldyn upgrade {self.path} --store NEW.h5`", message)


class SweepArraysTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        config = os.path.join(cls.tmp.name, "tiny.ini")
        with open(config, "w") as f:
            f.write(SWEEP)
        cls.path = os.path.join(cls.tmp.name, "tiny.h5")
        subprocess.run([BIN, "sweep", config, "--store", cls.path, "-q"], check=True,
                       capture_output=True, env=ENV, timeout=300)
        cls.store = Store(cls.path)
        cls.sweep = cls.store.sweep("tiny")
        cls.raw = RawStore(cls.path).sweep("tiny")

    @classmethod
    def tearDownClass(cls):
        cls.store.close()
        cls.raw.group.file.close()
        cls.tmp.cleanup()

    def test_sweep_is_as_planned(self):
        self.assertEqual(len(self.sweep), 8)
        records = [self.raw.records(row) for row in range(8)]
        self.assertEqual(sorted(set(records)), [5, 7])  # the padding is exercised
        self.assertEqual(self.raw.group["record"].shape, (7,))
        self.assertEqual(self.raw.group["component"].shape, (4,))

    def test_runs_are_their_rows(self):
        for row in range(len(self.sweep)):
            run, raw = self.sweep.run(row), self.raw.run(row)
            self.assertEqual(run.id, self.raw.ids[row])
            self.assertEqual(run.status, self.raw.status(row))
            self.assertEqual(run.config, self.raw.config(row))
            records, k = self.raw.records(row), self.raw.setting("k", row)
            for name, values in run.trajectory.items():
                dataset = name if name in ("step", "t", "theory_distance") else f"gd_{name}"
                self.assertTrue(same(values, raw[dataset]), name)
            for name, values in run.theory.items():
                dataset = name if name in ("step", "t") else f"theory_{name}"
                self.assertTrue(same(values, raw[dataset]), name)
            self.assertEqual(run.trajectory["singular_values"].shape, (records, k))
            self.assertTrue(np.all(run.trajectory["step"] >= 0))  # every record reached
            self.assertTrue(same(run.w0, raw["W0"]))
            self.assertTrue(same(run.w, raw["W"]))
            self.assertTrue(same(run.spectrum, raw["eigenvalues"]))
            self.assertEqual(run.result["final_loss"], raw["gd_loss"][-1])
            self.assertFalse(run.has("network"))
            self.assertEqual(run.network, {})

    def test_dataframe_typed_and_equal_to_the_columns(self):
        frame = self.sweep.to_dataframe()
        self.assertEqual(list(frame.index), self.raw.ids)
        self.assertEqual(frame.index.name, "run")
        for key, dtype in (("eta", np.float64), ("eta_rel", np.float64), ("k", np.int64),
                           ("seed", np.int64), ("steps", np.int64), ("centre", np.bool_),
                           ("final_loss", np.float64), ("final_step", np.int64)):
            self.assertEqual(frame[key].dtype, dtype, key)
        for key in ("loss", "dynamics", "spikes", "failure", "host"):
            self.assertEqual(frame[key].dtype, object, key)
            self.assertTrue(all(isinstance(v, str) for v in frame[key]), key)
        self.assertIsInstance(frame["status"].dtype, pd.CategoricalDtype)
        self.assertEqual(list(frame["status"]), [self.raw.status(r) for r in range(8)])
        self.assertEqual(set(frame.columns),
                         set(self.raw.settings) | set(self.raw.results()) | {"status"})
        for name in set(self.raw.settings) | set(self.raw.results()):
            stored = self.raw[name]
            if stored.dtype.kind == "S":
                stored = [v.decode() for v in stored]
            self.assertTrue(same(frame[name].to_numpy(), stored), name)

    def test_series_equal_the_runs(self):
        for metric, section, name in (("loss", "trajectory", "loss"),
                                      ("theory/loss", "theory", "loss"),
                                      ("theory_distance", "trajectory", "theory_distance"),
                                      ("singular_values", "trajectory", "singular_values"),
                                      ("theory/singular_values", "theory", "singular_values")):
            series = self.sweep.series(metric)
            self.assertEqual(series.values.shape[:2], (8, 7), metric)
            for row in range(8):
                run = self.sweep.run(row)
                records = self.raw.records(row)
                mine = getattr(run, section)[name]
                self.assertTrue(same(series.values[row, :records, :mine.shape[1]]
                                     if mine.ndim == 2 else series.values[row, :records], mine))
                # Past the run's records: NaN, and step -1.
                self.assertTrue(np.all(np.isnan(series.values[row, records:])), (metric, row))
                self.assertTrue(np.all(series.step[row, records:] == -1))
                self.assertTrue(same(series.t[row, :records], run.trajectory["t"]))
        self.assertTrue(same(self.sweep.series("loss").values, self.raw["gd_loss"]))
        with self.assertRaisesRegex(KeyError, "trajectory/loss"):
            self.sweep.series("los")

    def test_modes_and_rise_times_read_as_stored(self):
        # THEORY 6.5: series("modes") and each run's rise times, equal to the raw datasets.
        for metric, dataset in (("modes", "gd_modes"), ("theory/modes", "theory_modes")):
            series = self.sweep.series(metric)
            self.assertEqual(series.values.shape, (8, 7, 4), metric)
            self.assertTrue(same(series.values, self.raw[dataset]), metric)
        self.assertEqual(sorted(self.sweep.component_results), ["rise_time", "rise_time_predicted"])
        for row in range(8):
            run, raw = self.sweep.run(row), self.raw.run(row)
            k = self.raw.setting("k", row)
            self.assertEqual(set(run.components), {"rise_time", "rise_time_predicted"})
            for name, values in run.components.items():
                self.assertEqual(values.shape, (k,), name)
                self.assertTrue(same(values, raw[name]), name)
            self.assertTrue(np.all(np.isfinite(run.components["rise_time"])))
            # The noncontrastive loss has no prediction (THEORY 6.1-6.2 only).
            self.assertTrue(np.all(np.isnan(run.components["rise_time_predicted"])))
        self.assertNotIn("rise_time", self.sweep.results)  # not a column along run alone

    def test_xarray_opens_the_sweep(self):
        data = self.sweep.to_xarray()
        try:
            self.assertEqual(dict(data.sizes), {"run": 8, "record": 7, "component": 4})
            self.assertEqual(data["gd_loss"].dims, ("run", "record"))
            self.assertEqual(data["gd_singular_values"].dims, ("run", "record", "component"))
            self.assertEqual(data["final_loss"].dims, ("run",))
            self.assertEqual(data["rise_time"].dims, ("run", "component"))
            for key in self.raw.settings:
                self.assertIn(key, data.coords)
                self.assertEqual(data[key].dims, ("run",), key)
            self.assertEqual(data["k"].dtype, np.int64)
            self.assertEqual(data["eta_rel"].dtype, np.float64)
            self.assertEqual(list(data["run"].values), self.raw.ids)
            self.assertEqual(list(data["dynamics"].values),
                             [v.decode() for v in self.raw["dynamics"]])
            self.assertTrue(same(data["gd_loss"].values, self.raw["gd_loss"]))
            self.assertTrue(same(data["record"].values, np.arange(7)))
            # Selection by a setting, as xarray users do.
            naive = data["final_loss"].where(data["dynamics"] == "naive", drop=True)
            self.assertEqual(naive.sizes["run"], 4)
        finally:
            data.close()


if __name__ == "__main__":
    unittest.main()
