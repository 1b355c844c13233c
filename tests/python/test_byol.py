"""BYOL and SimSiam end to end (THEORY 6.3): jobs/configs/byol.ini through `ssldyn sweep` on two
ranks, the measured outcomes read back from the store (collapse without the predictor or without
the stop-gradient, none with both; the predictor's alignment with the eigenvectors of
F = W X W^T), `ssldyn query` on the new columns, and bad values refused naming their key."""

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


class ByolSweepTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.store = os.path.join(cls.tmp.name, "byol.h5")
        done = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root", BIN,
                               "sweep", CONFIG, "--store", cls.store, "-q"],
                              env=ENV, capture_output=True, text=True)
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

    def test_collapse_and_alignment_from_the_store(self):
        with RawStore(self.store) as raw:
            sweep = raw.sweep("byol")
            cases = self.cases(sweep)
            self.assertEqual(len(cases), 6)
            for (loss, predictor, stop), row in cases.items():
                name = f"{loss} predictor={predictor} stop_gradient={stop}"
                self.assertEqual(sweep.status(row), "done", name)
                run = sweep.run(row)
                s = run["gd_singular_values"]
                ratio = np.linalg.norm(s[-1]) / np.linalg.norm(s[0])
                erank = sweep.result("final_effective_rank", row)
                # The stored final weights [W | W_p | W_a] agree with the records.
                d, k = int(sweep["d"][row]), int(sweep["k"][row])
                weights = run["W"]
                self.assertEqual(weights.shape, (k, 2 * d + k))
                w, wp, wa = weights[:, :d], weights[:, d:d + k], weights[:, d + k:]
                np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), s[-1],
                                           rtol=1e-9, atol=1e-14)
                self.assertAlmostEqual(sweep.result("final_predictor_norm", row),
                                       np.linalg.norm(wp), delta=1e-12 * np.linalg.norm(wp))
                if loss == "simsiam":
                    np.testing.assert_array_equal(wa, w)
                if predictor == "identity":
                    np.testing.assert_array_equal(wp, np.eye(k))
                self.assertLess(sweep.result("max_theory_distance", row), DISTANCE, name)
                if predictor == "linear" and stop:
                    self.assertGreater(ratio, SURVIVES, name)
                    self.assertGreater(erank, 2.5, name)
                    initial = sweep.result("initial_predictor_offdiagonal", row)
                    final = sweep.result("final_predictor_offdiagonal", row)
                    self.assertGreater(initial, 0.3, name)
                    self.assertLess(final, ALIGNED, name)
                else:
                    self.assertLess(ratio, COLLAPSED, name)
                    # Steadily: ||W|| at the last record below its value half way.
                    self.assertLess(np.linalg.norm(s[-1]), np.linalg.norm(s[len(s) // 2]), name)

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
                           (["--dynamics", "naive", "--path", "covariance"], "path")):
            done = subprocess.run(base + extra, env=ENV, capture_output=True, text=True)
            self.assertEqual(done.returncode, 2, (extra, done.stderr))
            self.assertIn(f"{key}:", done.stderr, extra)
            self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x.h5")))


if __name__ == "__main__":
    unittest.main()
