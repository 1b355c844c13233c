"""Two-layer width sweeps through `ssldyn sweep` (THEORY 4.3-4.4): the same store on 1 and 2
ranks, every matrix spread over a run group equal to the replicated runs to round-off, a run
stopped by a signal and resumed equal to the uninterrupted sweep, and the report's width
figures equal to the store's records."""

import csv
import io
import os
import signal
import subprocess
import tempfile
import time
import unittest

import h5py
import numpy as np

from raw_store import RawStore
from test_report import read_csv, report
from test_sweep import BIN, ENV, assert_close_runs, assert_same_runs, run_datasets, sweep_command

WIDTH = """
[sweep]
name = width
[fixed]
model = two-layer
data = spiked
d = 8
spikes = 5,3,2
bulk = 0.4
n = 200
sigma_aug = 0.2
k = 2
probes = 24
ntk_probes = 3
eta_rel = 0.05
steps = 80
record_every = 20
reference_tolerance = 1e-8
[axes]
activation = tanh, gelu
h = 4, 16, 64, 256
batch = 0, 40
"""

NETWORK = ("output_deviation", "linear_loss", "loss_deviation", "gram_deviation",
           "projector_deviation", "weight_change", "kernel_change", "tangent_kernel_change",
           "w1_orthogonality_error", "w2_orthogonality_error")


class WidthSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.config = os.path.join(cls.dir, "width.ini")
        with open(cls.config, "w") as f:
            f.write(WIDTH)
        cls.reference = os.path.join(cls.dir, "one.h5")
        result = cls.sweep(1, cls.reference)
        assert "16 runs, 16 done, 0 failed" in result.stdout, result.stdout + result.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def sweep(cls, ranks, store, *extra, config=None, check=True):
        return subprocess.run(sweep_command(ranks, config or cls.config, store, *extra),
                              env=ENV, capture_output=True, text=True, check=check, timeout=600)

    def test_store_holds_every_record_of_both_layers(self):
        with RawStore(self.reference) as raw:
            sweep = raw.sweep("width")
            self.assertEqual(len(sweep), 16)
            for row in range(len(sweep)):
                run = sweep.run(row)
                h = sweep.setting("h", row)
                self.assertEqual(run["W0"].shape, (h, 2 * (8 + 2)))  # [W1 | W2^T], pair
                self.assertEqual(run["checkpoint_step"], 80)
                for name in NETWORK:
                    values = run[f"network_{name}"]
                    self.assertEqual(values.shape, (5,), name)
                    self.assertTrue(np.all(np.isfinite(values)), (name, values))
                # Orthogonality of both layers held to round-off, by GD and the reference.
                self.assertLess(run["network_w1_orthogonality_error"].max(), 1e-12)
                self.assertLess(run["theory_orthogonality_error"].max(), 1e-12)
                self.assertEqual(run["network_weight_change"][0], 0.0)
                self.assertEqual(run["network_kernel_change"][0], 0.0)
                # GD strays from the reference flow by O(eta), far above its tolerance.
                distance = run["theory_distance"]
                self.assertEqual(distance[0], 0.0)
                self.assertTrue(np.all((distance[1:] > 1e-6) & (distance[1:] < 0.1)), distance)
            accepted = sweep["reference_accepted"]
            self.assertTrue(np.all(accepted > 0), accepted)
            # Each layer's retraction, auto resolved for its shape: W1 has min(h, d) <= 8
            # orthonormal vectors, W2 k = 2, so polar for both (QR beyond 32).
            for layer in ("retraction_w1", "retraction_w2", "retraction_used"):
                self.assertEqual({v.decode() for v in sweep[layer]}, {"polar"}, layer)

    def test_two_ranks_and_spread_groups_equal_one_rank(self):
        two = os.path.join(self.dir, "two.h5")
        self.sweep(2, two)
        reference = run_datasets(self.reference)
        assert_same_runs(self, reference, run_datasets(two))
        # One group of two ranks, every matrix above 0 entries spread in blocks of 5: the wide
        # runs (h > d) shard their hidden units over the group, the others retract W1 and W2 on
        # the group's grid. Round-off apart: 1e-10 relative
        # (a few hundred steps of products summed in another order); sines and projector
        # distances of equal subspaces are square roots of round-off, so 1.5e-8 absolute.
        spread = os.path.join(self.dir, "spread.h5")
        self.sweep(2, spread, "--group-size", "2", "--distribute-above", "0", "--block-size", "5")
        assert_close_runs(self, reference, run_datasets(spread), 1e-10,
                          ("topk_sin_angle", "projector_deviation"))

    def test_stopped_by_a_signal_then_resumed_equals_uninterrupted(self):
        config = os.path.join(self.dir, "long.ini")
        with open(config, "w") as f:
            f.write(WIDTH.replace("steps = 80", "steps = 2000").replace("h = 4, 16, 64, 256",
                                                                        "h = 16, 64"))
        whole = os.path.join(self.dir, "long-whole.h5")
        started = time.time()
        self.sweep(2, whole, config=config)
        duration = time.time() - started
        store = os.path.join(self.dir, "long.h5")
        job = subprocess.Popen(sweep_command(2, config, store), env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.time() + 60
        while not os.path.exists(store) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.4 * duration)
        job.send_signal(signal.SIGUSR1)
        out, err = job.communicate(timeout=300)
        self.assertEqual(job.returncode, 3, err)
        with h5py.File(store, "r") as f:
            sweep = f["sweeps/width"]
            running = sweep["status"][()] == 1
            self.assertTrue(np.any(running))
            steps = sweep["weights/checkpoint_step"][()]
            self.assertTrue(np.all(steps[running] > 0), steps)
        resumed = self.sweep(2, store, "--resume", config=config)
        self.assertIn("continued from a saved state", resumed.stdout, resumed.stderr)
        assert_same_runs(self, run_datasets(whole), run_datasets(store))

    def test_query_reads_the_network_series(self):
        """`ssldyn query` of two-layer values: --at all gives every record of network/<name>
        bit for bit (CSV carries every digit), --at final the index column, equal to the last
        record; an unknown metric is bad input naming it and listing the network metrics."""
        names = ("kernel_change", "tangent_kernel_change")

        def query(*args):
            out = subprocess.run([BIN, "query", self.reference, "--metric", ",".join(names),
                                  "--format", "csv", *args], capture_output=True, text=True,
                                 check=True).stdout
            return list(csv.DictReader(io.StringIO(out)))

        every, final = query("--at", "all"), query()
        self.assertEqual(len(every), 16 * 5)
        self.assertEqual(len(final), 16)
        with RawStore(self.reference) as raw:
            sweep = raw.sweep("width")
            for row, run_id in enumerate(sweep.ids):
                run = sweep.run(row)
                rows = [r for r in every if r["run_id"] == run_id]
                last, = [r for r in final if r["run_id"] == run_id]
                self.assertEqual([int(r["step"]) for r in rows], list(run["step"]))
                for name in names:
                    stored = run[f"network_{name}"]
                    self.assertGreater(stored[-1], 0.0, name)  # the kernels moved
                    self.assertEqual([float(r[f"network/{name}"]) for r in rows], list(stored))
                    self.assertEqual(float(last[f"final_{name}"]), stored[-1])
        bad = subprocess.run([BIN, "query", self.reference, "--at", "all", "--metric",
                              "loss,kernel_chnage"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertIn("--metric: unknown metric 'kernel_chnage'", bad.stderr)
        for name in NETWORK:
            self.assertIn(name, bad.stderr)

    def test_report_fits_the_width_figures_from_the_records(self):
        out = os.path.join(self.dir, "report")
        result = report(self.reference, out, "--sweep", "width")
        self.assertEqual(result.returncode, 0, result.stderr)
        with RawStore(self.reference) as raw:
            sweep = raw.sweep("width")

            def run(run_id):
                return sweep.run(sweep.row(run_id))

            for row in read_csv(os.path.join(out, "width_linear_limit.csv")):
                values = run(row["run_id"])["network_output_deviation"]
                self.assertEqual(float(row["deviation_initial"]), values[0])
                self.assertEqual(float(row["deviation_last"]), values[-1])
            for row in read_csv(os.path.join(out, "width_ntk.csv")):
                self.assertEqual(float(row["weight_change"]),
                                 run(row["run_id"])["network_weight_change"][-1])
                self.assertEqual(float(row["kernel_change"]),
                                 run(row["run_id"])["network_kernel_change"][-1])
            for row in read_csv(os.path.join(out, "width_linear_pair.csv")):
                self.assertEqual(float(row["gram_deviation"]),
                                 run(row["run_id"])["network_gram_deviation"][-1])
        fits = read_csv(os.path.join(out, "width_linear_limit_fit.csv"))
        self.assertEqual({f["group"] for f in fits}, {"tanh", "gelu"})
        for fit in fits:  # intervals around the exponent, and the deviation falls with h
            low, exponent, high = (float(fit[k]) for k in
                                   ("exponent_low", "exponent", "exponent_high"))
            self.assertTrue(low < exponent < high < 0, fit)


NTK = """
[sweep]
name = ntk
[fixed]
data = fashion-mnist
n = 100
k = 10
sigma_aug = 0.1
eta_rel = 0.1
steps = 20
record_every = 10
probes = 16
ntk_probes = 1
reference_tolerance = 0
[axes]
model = two-layer, supervised
h = 64, 256, 1024
"""


class SupervisedBaselineTest(unittest.TestCase):
    def test_supervised_runs_turn_lazy_in_the_same_sweep(self):
        """The NTK-parametrised baseline next to the constrained SSL runs (THEORY 4.4): its
        relative weight change falls as h^-1/2. The weights move O(1) in norm while their norm
        grows as sqrt(h); over h = 64..1024 the fitted exponent must fall in [-0.65, -0.35]
        (measured -0.54). The same sweep with the kernels' rows spread over a run group of two
        equals it to round-off."""
        with tempfile.TemporaryDirectory() as folder:
            config = os.path.join(folder, "ntk.ini")
            with open(config, "w") as f:
                f.write(NTK)
            store = os.path.join(folder, "ntk.h5")
            result = subprocess.run(sweep_command(2, config, store), env=ENV,
                                    capture_output=True, text=True, timeout=600)
            self.assertEqual(result.returncode, 0, result.stderr)
            with RawStore(store) as raw:
                sweep = raw.sweep("ntk")
                for row in range(len(sweep)):
                    run = sweep.run(row)
                    # Supervised runs have no linear pair and no THEORY 4.3 deviation.
                    self.assertEqual(np.isnan(run["network_output_deviation"][-1]),
                                     sweep.setting("model", row) == "supervised")
                    self.assertTrue(np.isfinite(run["network_kernel_change"][-1]))
            out = os.path.join(folder, "report")
            result = report(store, out, "--sweep", "ntk")
            self.assertEqual(result.returncode, 0, result.stderr)
            fits = {(r["quantity"], r["group"]): r
                    for r in read_csv(os.path.join(out, "ntk_ntk_fit.csv"))}
            # Groups per objective and activation (one activation here).
            lazy = [r for (quantity, group), r in fits.items()
                    if quantity == "weight change" and group.startswith("supervised, ")]
            self.assertEqual(len(lazy), 1, sorted(fits))
            self.assertTrue(-0.65 <= float(lazy[0]["exponent"]) <= -0.35, lazy)
            self.assertTrue(any(quantity == "weight change" and group.startswith("SSL, ")
                                for quantity, group in fits), sorted(fits))
            # One group of two ranks, every matrix above 0 entries spread: the kernels' rows over
            # the group (the supervised baseline's from its replicated weights, the widest SSL
            # run's, h > d, from its sharded units): equal to the replicated runs to round-off,
            # 1e-10 relative (1.5e-8 absolute for the square roots of round-off).
            spread = os.path.join(folder, "spread.h5")
            result = subprocess.run(sweep_command(2, config, spread, "--group-size", "2",
                                                  "--distribute-above", "0"),
                                    env=ENV, capture_output=True, text=True, timeout=600)
            self.assertEqual(result.returncode, 0, result.stderr)
            assert_close_runs(self, run_datasets(store), run_datasets(spread), 1e-10,
                              ("topk_sin_angle", "projector_deviation"))


class Float32Test(unittest.TestCase):
    def test_float32_runs_stay_below_the_discretisation_error(self):
        """precision = float32 beside float64 in one sweep, full batch and minibatch, one
        replicated width and one sharded over a group of two (h = 64 > d): the reference flow
        stays float64, so the theory records are bit for bit those of the float64 run, and the
        final weights differ from the float64 run's by less than a hundredth of GD's distance to
        the flow (float rounding, ~1e-7 relative a step, against O(eta); measured 7e-7..6e-6 of
        it), by more than 0 (the float path ran). The losses agree to 1e-4 relative, the
        gradient test's bound (measured 1.2e-7). The report fits the two precisions apart."""
        with tempfile.TemporaryDirectory() as folder:
            config = os.path.join(folder, "float32.ini")
            with open(config, "w") as f:
                f.write(WIDTH.replace("name = width", "name = float32")
                        .replace("activation = tanh, gelu", "activation = tanh")
                        .replace("h = 4, 16, 64, 256", "h = 16, 64\nprecision = float64, float32"))
            store = os.path.join(folder, "float32.h5")
            result = subprocess.run(sweep_command(2, config, store, "--group-size", "2",
                                                  "--distribute-above", "500"),
                                    env=ENV, capture_output=True, text=True, timeout=600)
            self.assertEqual(result.returncode, 0, result.stderr)
            runs = {}
            with RawStore(store) as raw:
                sweep = raw.sweep("float32")
                for row in range(len(sweep)):
                    run = sweep.run(row)
                    key = (sweep.setting("h", row), sweep.setting("batch", row))
                    runs.setdefault(key, {})[sweep.setting("precision", row)] = {
                        "W": run["W"], "loss": run["gd_loss"],
                        "distance": run["theory_distance"], "theory": run["theory_loss"]}
            self.assertEqual(len(runs), 4)
            for key, pair in runs.items():
                single, double = pair["float32"], pair["float64"]
                self.assertTrue(np.array_equal(single["theory"], double["theory"]), key)
                np.testing.assert_allclose(single["loss"], double["loss"], rtol=1e-4)
                moved = (np.linalg.norm(single["W"] - double["W"])
                         / np.linalg.norm(double["W"]))
                self.assertLess(moved, 0.01 * double["distance"][-1], key)
                self.assertGreater(moved, 0.0, key)
            # The report's width figures keep float32 runs apart from float64 ones.
            out = os.path.join(folder, "report")
            result = report(store, out, "--sweep", "float32")
            self.assertEqual(result.returncode, 0, result.stderr)
            groups = {r["activation"] for r in read_csv(os.path.join(out,
                                                                     "float32_linear_limit.csv"))}
            self.assertEqual(groups, {"tanh", "tanh (float32)"})


if __name__ == "__main__":
    unittest.main()
