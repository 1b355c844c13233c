"""The comparison of ways to enforce orthogonality: a small sweep of retractions, a penalty and
weight decay writes the comparison columns consistently with its trajectories, `ssldyn query`
shows them, and ssldyn.orthogonality finds the largest stable steps the theory predicts."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ANALYSIS = os.path.join(os.environ.get("SSLDYN_SOURCE_DIR",
                                     os.path.join(os.path.dirname(__file__), "..", "..")),
                        "analysis")
sys.path.insert(0, ANALYSIS)
from ssldyn import orthogonality  # noqa: E402
from ssldyn.store import Store  # noqa: E402
from raw_store import RawStore  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# lambda = 5, 3, 2, then 0.5 (exact C): retractions are stable for eta*lambda_max below
# lambda_1/(lambda_1 - lambda_d) = 1.11, the penalty mu = 0.5 below 2 lambda_1/(4 lambda_1 + 8 mu)
# = 0.42, weight decay 5 below lambda_1/(5 - lambda_d) = 1.11. Every run ends at t = 40/lambda_1,
# long enough for stable runs to end close to their flows (ssldyn.orthogonality, rule (2)).
CONFIG = """
[sweep]
name = compare
[fixed]
data = spiked
d = 16
spikes = 5,3,2
bulk = 0.5
covariance = exact
k = 2
[zip.method]
dynamics     = orthogonal, orthogonal, orthogonal, orthogonal, penalty, naive
retraction   = qr,         polar,      cayley,     geodesic,   auto,    auto
penalty      = 0,          0,          0,          0,          0.5,     0
weight_decay = 0,          0,          0,          0,          0,       5
[zip.step]
eta_rel      = 0.1, 0.2, 0.4, 0.8, 1.6
steps        = 400, 200, 100, 50,  25
record_every = 20,  10,  5,   1,   1
"""

NEW_COLUMNS = ("seconds_per_step", "final_loss_gap", "theory_final_loss_gap",
               "final_grassmann_distance", "min_effective_rank", "optimum_effective_rank",
               "optimum_orthogonality_error")


class OrthogonalityComparisonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.config = os.path.join(cls.tmp.name, "compare.ini")
        with open(cls.config, "w") as f:
            f.write(CONFIG)
        cls.store = os.path.join(cls.tmp.name, "compare.h5")
        # Some runs diverge (exit code 1 after finishing the others).
        done = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root", BIN,
                               "sweep", cls.config, "--store", cls.store, "-q"],
                              env=ENV, capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stderr
        assert os.path.exists(cls.store), done.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_columns_agree_with_the_trajectories(self):
        with RawStore(self.store) as raw:
            sweep = raw.sweep("compare")
            for column in NEW_COLUMNS:
                self.assertIn(column, sweep.results())
                self.assertTrue(sweep.group[column].attrs["description"])
            status = sweep["status"]
            dynamics = [x.decode() for x in sweep["dynamics"]]
            checked = 0
            for row in range(len(sweep)):
                if status[row] != 2:
                    continue
                run = sweep.run(row)
                reached = run["step"] >= 0
                ev = run["eigenvalues"]
                optimum = -ev[:2].sum()
                last_loss = run["gd_loss"][reached][-1]
                self.assertAlmostEqual(sweep["final_loss_gap"][row],
                                       (last_loss - optimum) / abs(optimum), delta=1e-12)
                self.assertEqual(sweep["min_effective_rank"][row],
                                 run["gd_effective_rank"][reached].min())
                per_step = sweep["seconds_per_step"][row]
                steps = int(sweep["steps"][row])
                self.assertGreater(per_step, 0)
                self.assertLessEqual(per_step * steps, sweep["seconds"][row])
                if dynamics[row] in ("orthogonal", "penalty"):
                    self.assertEqual(sweep["final_grassmann_distance"][row],
                                     sweep["final_theory_distance"][row])
                if dynamics[row] == "penalty":
                    s = np.sqrt(1 + ev[:2] / (2 * 0.5))
                    p = s / s.sum()
                    self.assertAlmostEqual(sweep["optimum_effective_rank"][row],
                                           np.exp(-(p * np.log(p)).sum()), delta=1e-12)
                    self.assertAlmostEqual(sweep["optimum_orthogonality_error"][row],
                                           np.linalg.norm(ev[:2] / (2 * 0.5)), delta=1e-12)
                elif dynamics[row] == "orthogonal":
                    self.assertEqual(sweep["optimum_effective_rank"][row], 2.0)
                    self.assertEqual(sweep["optimum_orthogonality_error"][row], 0.0)
                else:
                    self.assertTrue(np.isnan(sweep["optimum_effective_rank"][row]))
                checked += 1
            self.assertGreater(checked, 20)

    def test_query_shows_the_comparison(self):
        out = subprocess.run([BIN, "query", self.store, "--where", "eta_rel == 0.1",
                              "--metric", "final_theory_distance,final_loss_gap,seconds_per_step",
                              "--format", "csv"], env=ENV, capture_output=True, text=True,
                             check=True).stdout.splitlines()
        self.assertEqual(len(out), 1 + 6)
        header = out[0].split(",")
        for name in ("retraction", "penalty", "final_loss_gap", "seconds_per_step"):
            self.assertIn(name, header)

    def test_largest_stable_steps_match_the_bounds(self):
        with Store(self.store) as store:
            rows = {(r[0], r[2]): r for r in orthogonality.compare(store.sweep("compare"))}
        col = orthogonality.HEADER.index("stable eta*lmax")
        predicted = orthogonality.HEADER.index("predicted")
        for method in ("qr", "polar", "cayley", "geodesic"):
            self.assertEqual(rows[(method, 2)][col], "0.8", method)
            self.assertAlmostEqual(rows[(method, 2)][predicted], 5 / 4.5, delta=1e-9)
        self.assertEqual(rows[("penalty mu=0.5", 2)][col], "0.4")
        self.assertAlmostEqual(rows[("penalty mu=0.5", 2)][predicted], 10 / 24, delta=1e-9)
        self.assertEqual(rows[("weight decay 5", 2)][col], "0.8")
        # All retractions follow the same flow: equal distances to it to O(eta^2).
        distances = [rows[(m, 2)][orthogonality.HEADER.index("dist at t*")]
                     for m in ("qr", "polar", "cayley", "geodesic")]
        self.assertLess(max(distances) / min(distances) - 1, 0.05)

    def test_command_line(self):
        out = subprocess.run([sys.executable, "-m", "ssldyn.orthogonality", self.store],
                             cwd=ANALYSIS, capture_output=True, text=True, check=True).stdout
        self.assertIn("sweep compare", out)
        self.assertIn("geodesic", out)
        self.assertIn("penalty mu=0.5", out)


if __name__ == "__main__":
    unittest.main()
