"""BYOL and SimSiam end to end (THEORY 6.3): jobs/configs/byol.ini through `ssldyn sweep` on two
ranks, the measured outcomes read back from the store (collapse without the predictor or without
the stop-gradient, none with both; the predictor's alignment with the eigenvectors of
F = W X W^T), `ssldyn query` on the new columns, and bad values refused naming their key; the
same sweep on the two-layer model."""

import os
import subprocess
import tempfile
import unittest

import numpy as np

from raw_store import RawStore

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
SOURCE = os.environ.get("SSLDYN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIG = os.path.join(SOURCE, "jobs", "configs", "byol.ini")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# What the store's numbers must show (measured on this config: with predictor and stop-gradient
# ||W_T||/||W_0|| is 0.83 and the final effective rank 3.99; the collapsing runs end at ratios
# from 5e-11 to 1.6e-3; the off-diagonal mass of W_p falls from 0.73 to 0.013).
SURVIVES = 0.3    # ||W_T||_F / ||W_0||_F above this: no collapse
COLLAPSED = 0.05  # below this: collapse to zero
ALIGNED = 0.1     # final off-diagonal mass of W_p in F's eigenbasis
# GD at eta = 0.01 against the reference flow (tolerance 1e-8): relative distance O(eta), at most
# 0.03 measured along the runs.
DISTANCE = 0.05


class ByolSweep:
    """jobs/configs/byol.ini, with SETTINGS added to its [fixed] section, swept once for the
    class on two ranks; each run's outcome against the measured bounds above."""

    SETTINGS = ""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        config = CONFIG
        if cls.SETTINGS:
            with open(CONFIG, encoding="utf-8") as f:
                text = f.read().replace("\n[fixed]\n", "\n[fixed]\n" + cls.SETTINGS, 1)
            config = os.path.join(cls.tmp.name, "byol.ini")
            with open(config, "w", encoding="utf-8") as f:
                f.write(text)
        cls.store = os.path.join(cls.tmp.name, "byol.h5")
        done = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root", BIN,
                               "sweep", config, "--store", cls.store, "-q"],
                              env=ENV, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cases(self, sweep):
        out = {}
        for row in range(len(sweep)):
            key = (sweep.setting("loss", row), sweep.setting("predictor", row),
                   bool(sweep.setting("stop_gradient", row)))
            out[key] = row
        return out

    def check_runs(self, check_weights, check_survivor):
        """Every run done, near its flow, and collapsed to zero (steadily) or, with the predictor
        and the stop-gradient, surviving with an aligned predictor. The model's own checks:
        check_weights(name, loss, sweep, row, run, s) of the stored weights (s: the recorded
        singular values), returning W_p; check_survivor(name, sweep, row, s)."""
        with RawStore(self.store) as raw:
            sweep = raw.sweep("byol")
            cases = self.cases(sweep)
            self.assertEqual(len(cases), 6)
            for (loss, predictor, stop), row in cases.items():
                name = f"{self.SETTINGS!r} {loss} predictor={predictor} stop_gradient={stop}"
                self.assertEqual(sweep.status(row), "done", name)
                run = sweep.run(row)
                s = run["gd_singular_values"]
                ratio = np.linalg.norm(s[-1]) / np.linalg.norm(s[0])
                wp = check_weights(name, loss, sweep, row, run, s)
                self.assertAlmostEqual(sweep.result("final_predictor_norm", row),
                                       np.linalg.norm(wp), delta=1e-12 * np.linalg.norm(wp))
                if predictor == "identity":
                    np.testing.assert_array_equal(wp, np.eye(wp.shape[0]))
                self.assertLess(sweep.result("max_theory_distance", row), DISTANCE, name)
                if predictor == "linear" and stop:
                    self.assertGreater(ratio, SURVIVES, name)
                    check_survivor(name, sweep, row, s)
                    initial = sweep.result("initial_predictor_offdiagonal", row)
                    final = sweep.result("final_predictor_offdiagonal", row)
                    self.assertGreater(initial, 0.3, name)
                    self.assertLess(final, ALIGNED, name)
                else:
                    self.assertLess(ratio, COLLAPSED, name)
                    # Steadily: ||W|| at the last record below its value half way.
                    self.assertLess(np.linalg.norm(s[-1]), np.linalg.norm(s[len(s) // 2]), name)


class ByolSweepTest(ByolSweep, unittest.TestCase):
    def test_collapse_and_alignment_from_the_store(self):
        def weights(name, loss, sweep, row, run, s):
            # The stored final weights [W | W_p | W_a] agree with the records.
            d, k = int(sweep["d"][row]), int(sweep["k"][row])
            weights = run["W"]
            self.assertEqual(weights.shape, (k, 2 * d + k))
            w, wp, wa = weights[:, :d], weights[:, d:d + k], weights[:, d + k:]
            np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), s[-1],
                                       rtol=1e-9, atol=1e-14)
            if loss == "simsiam":
                np.testing.assert_array_equal(wa, w)
            return wp

        def survivor(name, sweep, row, s):
            self.assertGreater(sweep.result("final_effective_rank", row), 2.5, name)

        self.check_runs(weights, survivor)

    def test_query_reads_the_predictor_columns(self):
        out = subprocess.run([BIN, "query", self.store, "--sweep", "byol", "--metric",
                              "final_predictor_offdiagonal,final_predictor_norm",
                              "--format", "csv"], env=ENV, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), 1 + 6)
        header = lines[0].split(",")
        for name in ("loss", "predictor", "stop_gradient", "final_predictor_offdiagonal",
                     "final_predictor_norm"):
            self.assertIn(name, header)

    def test_bad_values_exit_2_naming_the_key(self):
        base = [BIN, "run", "--data", "spiked", "--d", "8", "--n", "100", "--k", "2",
                "--steps", "5", "--loss", "byol", "--store", os.path.join(self.tmp.name, "x.h5")]
        for extra, key in ((["--dynamics", "orthogonal"], "dynamics"),
                           (["--dynamics", "naive", "--predictor_rate", "-1"], "predictor_rate"),
                           (["--dynamics", "naive", "--target_rate", "inf"], "target_rate"),
                           (["--dynamics", "naive", "--predictor", "cubic"], "predictor"),
                           (["--dynamics", "naive", "--stop_gradient", "perhaps"],
                            "stop_gradient"),
                           (["--dynamics", "naive", "--path", "covariance"], "path"),
                           (["--dynamics", "naive", "--model", "supervised"], "model"),
                           (["--dynamics", "naive", "--model", "two-layer", "--batch", "10"],
                            "batch")):
            done = subprocess.run(base + extra, env=ENV, capture_output=True, text=True)
            self.assertEqual(done.returncode, 2, (extra, done.stderr))
            self.assertIn(f"{key}:", done.stderr, extra)
            self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x.h5")))


class TwoLayerByolSweepTest(ByolSweep, unittest.TestCase):
    """The same sweep on the two-layer tanh network, h = 32 (THEORY 6.3: both encoders' layers,
    the predictor on the output). Measured: with the predictor and the stop-gradient
    ||W2 W1||_F ends at 0.51 of its start (BYOL and SimSiam), two of the four spiked modes
    survive (singular values 0.75, 0.73, then below 6e-5: a partial, dimensional collapse the
    linear model does not show) and W_p aligns (off-diagonal mass 0.95 -> 0.006); without the
    predictor or without the stop-gradient ||W2 W1||_F falls to 4e-5 .. 6e-6 of its start."""

    H = 32
    SETTINGS = f"model = two-layer\nh = {H}\nactivation = tanh\n"

    def test_collapse_and_alignment_from_the_store(self):
        def weights(name, loss, sweep, row, run, s):
            # The stored final weights [W1 | W2 | W_p | W1_a | W2_a] agree with the records:
            # their singular values are those of the end-to-end map W2 W1.
            d, k, h = int(sweep["d"][row]), int(sweep["k"][row]), self.H
            weights = run["W"]
            self.assertEqual(weights.shape, (max(h, k), 2 * d + 2 * h + k))
            w1, w2 = weights[:h, :d], weights[:k, d:d + h]
            wp = weights[:k, d + h:d + h + k]
            w1a, w2a = weights[:h, d + h + k:2 * d + h + k], weights[:k, 2 * d + h + k:]
            np.testing.assert_allclose(np.linalg.svd(w2 @ w1, compute_uv=False), s[-1],
                                       rtol=1e-9, atol=1e-14)
            if loss == "simsiam":
                np.testing.assert_array_equal(w1a, w1)
                np.testing.assert_array_equal(w2a, w2)
            else:  # the moving average trails the online layers
                self.assertGreater(np.linalg.norm(w1a - w1), 0, name)
            return wp

        def survivor(name, sweep, row, s):
            # At least two modes of W2 W1 survive, within a factor 2 of the largest.
            self.assertGreaterEqual(np.sum(s[-1] > 0.5 * s[-1][0]), 2, name)

        self.check_runs(weights, survivor)


if __name__ == "__main__":
    unittest.main()
