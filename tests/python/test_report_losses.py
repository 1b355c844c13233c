"""The report's section on the losses of THEORY 6 (analysis/ssldyn/losses.py): on a small
sweep of them and a small BYOL/SimSiam sweep every CSV number equals what the store holds, read
here with h5py alone, or what numpy recomputes from its raw datasets (the effective rank from
the singular values, the relative deviation of the rise times, ‖W‖_F from the singular values);
a sweep of the paper's losses gets no such section. And jobs/configs/paper-mnist.ini expands to
as many runs as the product of its axes."""

import configparser
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from raw_store import RawStore

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser"))
import check_page  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
SOURCE = os.environ.get("SSLDYN_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
MNIST_DIR = os.environ.get("SSLDYN_MNIST_DIR", "")
HAVE_MNIST = bool(MNIST_DIR) and os.path.isfile(os.path.join(MNIST_DIR, "SHA256SUMS"))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1", PYTHONPATH=os.path.join(SOURCE, "analysis"))

# Three losses of §6.1–6.4, the spectral contrastive one also whitened, naive and orthogonal,
# from a small start (the rise-time predictions' case) and an ordinary one: 16 runs of d = 8, a
# second on one rank. At t = 0.75 (2.7 whitened) some modes of the small naive starts have
# saturated, the slowest (lambda = 1, rise near 1.6) not.
LOSSES = """
[sweep]
name = six
[fixed]
data = spiked
d = 8
spikes = 4, 2, 1
bulk = 0.1
n = 200
sigma_aug = 0.1
k = 3
eta_rel = 0.02
steps = 150
record_every = 10
reference_tolerance = 1e-6
seed = 1
[axes]
dynamics = naive, orthogonal
init_scale = 0.001, 0
[zip.loss]
loss = spectral_contrastive, spectral_contrastive, barlow_twins, infonce
whiten = true, false, false, false
"""
# §6.3: both losses, the three cases of jobs/configs/byol.ini, shortened.
PREDICTOR = """
[sweep]
name = pred
[fixed]
data = spiked
d = 8
spikes = 8, 6, 4, 2
bulk = 0.5
n = 2000
sigma_aug = 0.5
k = 4
dynamics = naive
weight_decay = 0.05
target_rate = 5
eta = 0.01
steps = 1500
record_every = 50
reference_tolerance = 1e-6
seed = 1
[axes]
loss = byol, simsiam
[zip.case]
predictor     = linear, identity, linear
stop_gradient = true,   true,     false
"""
# The paper's losses only: no section of §6.
PAPER = """
[sweep]
name = paper
[fixed]
data = spiked
d = 8
spikes = 4, 2, 1
bulk = 0.1
n = 200
k = 2
steps = 20
record_every = 10
[axes]
dynamics = sphere, orthogonal
"""
COLLAPSED = 1e-3  # losses.COLLAPSED: final s2/s1 below it is a collapse
# losses.SATURATION_*: a mode has saturated when its last u = ||W v_i||^2 is within 2 % of its
# value at each of the 5 records before.
SATURATION_TOLERANCE, SATURATION_RECORDS = 0.02, 5


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def close(a, b, rel=1e-12):
    """Equal to round-off: the CSV holds the store's doubles by their shortest repr, and numpy's
    recomputation differs from the C++ one in the last bits."""
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def effective_rank(singular_values):
    """THEORY 4.1: exp(-sum p log p), p = s / sum s, over the finite s."""
    s = singular_values[np.isfinite(singular_values)]
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


class LossesReport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.store = os.path.join(cls.dir, "losses.h5")
        for name, config in (("six", LOSSES), ("pred", PREDICTOR), ("paper", PAPER)):
            path = os.path.join(cls.dir, f"{name}.ini")
            with open(path, "w") as f:
                f.write(config)
            subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root", BIN,
                            "sweep", path, "--store", cls.store, "-q"], check=True, env=ENV,
                           timeout=300)
        cls.out = os.path.join(cls.dir, "report")
        cls.result = subprocess.run([sys.executable, "-m", "ssldyn.report", cls.store, "--out",
                                     cls.out], capture_output=True, text=True, env=ENV,
                                    timeout=300)
        cls.raw = RawStore(cls.store)

    @classmethod
    def tearDownClass(cls):
        cls.raw.close()
        cls.tmp.cleanup()

    def csv(self, name):
        return read_csv(os.path.join(self.out, name))

    def test_section_drawn_only_for_sweeps_of_the_losses(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        files = set(os.listdir(self.out))
        for stem in ("six_losses_rank", "six_losses_modes", "six_losses_flow",
                     "pred_losses_rank", "pred_losses_flow", "pred_losses_predictor"):
            self.assertIn(f"{stem}.png", files)
            self.assertIn(f"{stem}.svg", files)
        # No predictor runs in six, no rise-time prediction for BYOL/SimSiam, nothing in paper.
        self.assertNotIn("six_losses_predictor.png", files)
        self.assertNotIn("pred_losses_modes.png", files)
        self.assertFalse([f for f in files if f.startswith("paper_losses")])
        with open(os.path.join(self.out, "index.html"), encoding="utf-8") as f:
            html = f.read()
        self.assertIn("eigen-directions and their rise times", html)
        self.assertIn("(measured − predicted)/predicted", html)
        sections = {name: html.split(f'<section id="sweep-{name}">')[1].split("</section>")[0]
                    for name in ("six", "pred", "paper")}
        self.assertEqual(sections["six"].count("<h3>Other losses (THEORY §6)"), 3)
        self.assertEqual(sections["pred"].count("<h3>Other losses (THEORY §6)"), 3)
        self.assertNotIn("Other losses", sections["paper"])

    def test_interactive_figures_valid_and_page_clean_in_chromium(self):
        """Every figure's plotly.js specification passes plotly's validation (the categorical
        axis of the predictor figure included), and the page loads in headless Chromium with
        every image and figure drawn and no errors."""
        import plotly.graph_objects as go
        with open(os.path.join(self.out, "index.html"), encoding="utf-8") as f:
            html = f.read()
        idents = [i for i in re.findall(r'<script type="application/json" id="spec-([^"]*)">',
                                        html) if "losses_" in i]
        self.assertEqual(len(idents), 6)
        for ident in idents:
            found = re.search(rf'id="spec-{re.escape(ident)}">(.*?)</script>', html, re.S)
            go.Figure(json.loads(found.group(1).replace("<\\/", "</")))
        if check_page.find_chromium() is None:
            self.skipTest("no chromium on PATH (Debian: chromium)")
        state = check_page.check(os.path.join(self.out, "index.html"))
        self.assertEqual(state["problems"], [])
        self.assertEqual(state["broken"], [])
        self.assertEqual(state["undrawn"], [])

    def test_rise_times_equal_the_store(self):
        sweep = self.raw.sweep("six")
        rows = self.csv("six_losses_rise_times.csv")
        # Every run with a prediction (spectral contrastive twice, Barlow Twins: 12 runs), k = 3
        # modes.
        self.assertEqual(len(rows), 12 * 3)
        seen, reasons = set(), {}
        for row in rows:
            index = sweep.row(row["run_id"])
            run = sweep.run(index)
            loss = sweep.setting("loss", index)
            self.assertIn(loss, ("spectral_contrastive", "barlow_twins"))
            i = int(row["mode"]) - 1
            predicted, measured = run["rise_time_predicted"][i], run["rise_time"][i]
            self.assertTrue(close(float(row["rise_time_predicted"]), predicted), row)
            self.assertTrue(close(float(row["rise_time"]), measured), row)
            self.assertTrue(close(float(row["lambda"]), run["eigenvalues"][i]), row)
            self.assertTrue(close(float(row["initial_mode"]), run["gd_modes"][0, i]), row)
            # Where the prediction applies (THEORY 6.1-6.2, 6.5): naive dynamics, a small start
            # (init_scale 1e-3, rows of norm 1e-3 sqrt(8) < 0.1), whitened inputs for the
            # spectral contrastive loss, and a mode levelled off by the last record.
            u = run["gd_modes"][:, i] ** 2
            last = u[-1 - SATURATION_RECORDS:-1]
            reason = ("dynamics" if sweep.setting("dynamics", index) != "naive" else
                      "ordinary start" if sweep.setting("init_scale", index) == 0 else
                      "not whitened" if loss == "spectral_contrastive"
                      and not sweep.setting("whiten", index) else
                      "not saturated" if np.any(np.abs(last - u[-1])
                                                > SATURATION_TOLERANCE * u[-1]) else "")
            self.assertEqual(row["not_applicable"], reason, row)
            self.assertEqual(row["applies"], str(not reason), row)
            # The flow's rise time: half the last value of its recorded u, linear in u.
            v = run["theory_modes"][:, i] ** 2
            j = int(np.argmax(v >= v[-1] / 2))
            flow = (run["t"][0] if j == 0 else np.interp(v[-1] / 2, v[j - 1:j + 1],
                                                           run["t"][j - 1:j + 1]))
            self.assertTrue(close(float(row["flow_rise_time"]), flow, 1e-9), row)
            if reason:
                self.assertTrue(math.isnan(float(row["relative_deviation"])), row)
                self.assertTrue(math.isnan(float(row["flow_relative_deviation"])), row)
            else:
                self.assertTrue(close(float(row["relative_deviation"]),
                                      (measured - predicted) / predicted), row)
                self.assertTrue(close(float(row["flow_relative_deviation"]),
                                      (flow - predicted) / predicted, 1e-9), row)
            reasons[reason] = reasons.get(reason, 0) + 1
            seen.add(index)
        # Orthogonal dynamics (6 runs) and ordinary starts (3 naive runs) are n/a as a whole;
        # of the 3 small naive runs the unwhitened spectral contrastive one, and among the rest
        # both saturated modes and the slowest, not saturated.
        self.assertEqual(reasons.pop("dynamics"), 6 * 3)
        self.assertEqual(reasons.pop("ordinary start"), 3 * 3)
        self.assertEqual(reasons.pop("not whitened"), 3)
        self.assertGreater(reasons.pop("not saturated"), 0)
        self.assertGreater(reasons.pop(""), 0)
        self.assertEqual(reasons, {})
        # The page's table says n/a for them, and the summary counts the applicable ones.
        with open(os.path.join(self.out, "index.html"), encoding="utf-8") as f:
            html = f.read()
        applicable = sum(row["applies"] == "True" for row in rows)
        self.assertIn(f"the prediction applies to {applicable} of {len(rows)} modes", html)
        self.assertEqual(html.count('<tr class="inapplicable">'), len(rows) - applicable)
        # The naive runs from the small start have a positive prediction for each mode (the
        # orthogonal dynamics put every start on WWᵀ = I).
        small = [r for r in seen if sweep.setting("init_scale", r) == 0.001
                 and sweep.setting("dynamics", r) == "naive"]
        self.assertEqual(len(small), 3)
        for r in small:
            self.assertTrue(np.all(sweep.run(r)["rise_time_predicted"] > 0))

    def test_final_effective_ranks_equal_the_store(self):
        for name in ("six", "pred"):
            sweep = self.raw.sweep(name)
            rows = self.csv(f"{name}_losses_rank_final.csv")
            self.assertEqual(len(rows), len(sweep))
            for row in rows:
                index = sweep.row(row["run_id"])
                run = sweep.run(index)
                stored = sweep.result("final_effective_rank", index)
                self.assertTrue(close(float(row["final_effective_rank"]), stored), row)
                # ... and the store's value is that of its last singular values (THEORY 4.1).
                self.assertAlmostEqual(effective_rank(run["gd_singular_values"][-1]), stored,
                                       delta=1e-12 * run["gd_singular_values"].shape[1])
                ratio = sweep.result("final_s2_s1", index)
                self.assertTrue(close(float(row["final_s2_s1"]), ratio), row)
                self.assertEqual(row["collapsed"], str(bool(ratio < COLLAPSED)), row)
                if sweep.setting("dynamics", index) == "orthogonal":
                    self.assertAlmostEqual(float(row["final_effective_rank"]), 3.0, places=9)
            # The effective-rank curves are the stored series, record by record.
            curves = self.csv(f"{name}_losses_rank.csv")
            for row in curves[::7]:
                index = sweep.row(row["run_id"])
                record = sweep.record(index, int(row["step"]))
                self.assertTrue(close(float(row["effective_rank"]),
                                      sweep["gd_effective_rank"][index, record]), row)

    def test_predictor_table_from_the_singular_values(self):
        sweep = self.raw.sweep("pred")
        rows = self.csv("pred_losses_predictor.csv")
        self.assertEqual(len(rows), 6)
        ratios = {}
        for row in rows:
            index = sweep.row(row["run_id"])
            values = sweep.run(index)["gd_singular_values"]
            norms = np.sqrt((values ** 2).sum(axis=1))
            self.assertTrue(close(float(row["frobenius_ratio"]), norms[-1] / norms[0], 1e-12),
                            row)
            self.assertTrue(close(float(row["final_predictor_offdiagonal"]),
                                  sweep.result("final_predictor_offdiagonal", index)), row)
            ratios[(row["loss"], row["predictor"], row["stop_gradient"])] = norms[-1] / norms[0]
        # THEORY 6.3 in the population moments: with the predictor and the stop-gradient the
        # spiked modes survive (s_j^2 >= 4 eta_wd (s_j + s'_j), eta_wd = 0.1, s' = 0.25, for
        # every spike); SimSiam without the predictor decays every mode at s' + eta_wd = 0.35,
        # without the stop-gradient at s s'/(s + s') + eta_wd >= 0.27 (the bulk, s = 0.5): over
        # t = 15 to e^-5.25 = 5e-3 and e^-4 = 0.018 of the start. Bounds 0.05 and 0.5 leave room
        # for the sample moments of n = 2000: their cross terms move a rate by about
        # (lambda_1 s'/n)^1/2 = 0.03, e^(0.03 t) = 1.6 at t = 15 (with n = 200, three times
        # that: measured 0.21 for SimSiam without the predictor).
        for loss in ("byol", "simsiam"):
            self.assertGreater(ratios[(loss, "linear", "true")], 0.5)
        for key in (("simsiam", "identity", "true"), ("simsiam", "linear", "false")):
            self.assertLess(ratios[key], 0.05)


@unittest.skipUnless(HAVE_MNIST, "the build has no MNIST digits (cmake --build build "
                                 "--target mnist-data)")
class PaperMnistConfig(unittest.TestCase):
    def test_dry_run_has_the_product_of_the_axes(self):
        path = os.path.join(SOURCE, "jobs", "configs", "paper-mnist.ini")
        parser = configparser.ConfigParser(inline_comment_prefixes=("#",))
        parser.read(path, encoding="utf-8")
        expected = 1
        for section in parser.sections():
            if section == "axes":
                for value in parser[section].values():
                    expected *= len(value.split(","))
            elif section == "zip" or section.startswith("zip."):
                lengths = {len(v.split(",")) for v in parser[section].values()}
                self.assertEqual(len(lengths), 1, section)  # a zip's lists have one length
                expected *= lengths.pop()
        done = subprocess.run([BIN, "sweep", path, "--dry-run", "--format", "json",
                               "--no-calibration"], capture_output=True, text=True, env=ENV,
                              timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        plan = json.loads(done.stdout)
        self.assertEqual(plan["sweep"]["runs"], expected)
        self.assertEqual(len(plan["runs"]), expected)
        self.assertGreater(expected, 1)


if __name__ == "__main__":
    unittest.main()
