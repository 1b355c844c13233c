"""`ssldyn report` (python3 -m ssldyn.report): on a store made by a small sweep every figure
is written and every CSV number equals the value recomputed from the raw datasets; a store
missing a section still yields a page with the other figures and a note; bad input exits 2
with nothing written; and the page loads in headless Chromium with every image and no errors."""

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from html import escape

import h5py
import numpy as np

from raw_store import RawStore, RawSweep, text

SOURCE = os.environ.get("SSLDYN_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SOURCE, "tests", "browser"))
import check_page  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1", PYTHONPATH=os.path.join(SOURCE, "analysis"))

# Both losses, sphere (naive) and orthogonal dynamics, four step sizes: every implemented
# figure has data. Empirical C, so that the two losses differ.
GRID = """
[sweep]
name = grid
[fixed]
data = spiked
d = 12
spikes = 5,3,2
bulk = 0.5
n = 400
sigma_aug = 0.2
steps = 200
record_every = 10
seed = 1
k = 3
[axes]
loss = noncontrastive, contrastive
dynamics = sphere, orthogonal
eta_rel = 0.02, 0.04, 0.08, 0.16
"""
# A second sweep in the same store: naive GD, one run that diverges (failed), two step sizes
# only (too few for the step-size figure, which must be skipped with a note).
BLOWUP = """
[sweep]
name = blowup
[fixed]
data = spiked
d = 12
spikes = 5,3,2
bulk = 0.5
covariance = exact
steps = 200
record_every = 10
k = 3
[zip]
dynamics = naive, naive
weight_decay = 4, 4
eta_rel = 0.05, 30
"""
# Naive GD far beyond its stable step, one record per step: η = 0.64 takes the loss to
# -1.41e308 one record before it overflows (measured), where matplotlib's axis limits and ticks
# overflowed (OverflowError out of savefig, the report's exit code 1); η = 1.28 (-1.61e308)
# failed with a ValueError. The orthogonal run is one that converges, drawn beside them.
DIVERGE = """
[sweep]
name = diverge
[fixed]
data = spiked
d = 12
spikes = 5,3,2
bulk = 0.5
covariance = exact
steps = 400
record_every = 1
k = 3
[zip]
dynamics = naive, naive, orthogonal
eta = 0.64, 1.28, 0.01
"""
FIGURES = {"grid": ("collapse", "theory", "gd_error"), "blowup": ("collapse", "theory")}
T975 = {1: math.tan(math.pi * 0.475), 2: 0.95 / math.sqrt(2 * 0.975 * 0.025)}  # closed forms


def report(store, out, *extra, command=None):
    command = command or [sys.executable, "-m", "ssldyn.report"]
    return subprocess.run([*command, store, "--out", out, *extra], capture_output=True,
                          text=True, env=ENV, timeout=120)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def figure_spec(html, ident):
    """The plotly.js specification of the figure ident (section-key) in a report page."""
    found = re.search(rf'<script type="application/json" id="spec-{re.escape(ident)}">(.*?)'
                      "</script>", html, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def close(a, b, rel=1e-12):
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= rel * max(abs(a), abs(b))


class Raw(RawStore):
    """The raw datasets of a store (raw_store: h5py only), by sweep name and run id."""

    def run(self, sweep, run_id):
        return self.sweep(sweep).run(self.row(sweep, run_id))

    def row(self, sweep, run_id):
        return self.sweep(sweep).row(run_id)

    def config(self, sweep, row):
        return self.sweep(sweep).config(row)

    def result(self, sweep, row, column):
        return self.sweep(sweep).result(column, row)

    def status(self, sweep, row):
        return self.sweep(sweep).status(row)

    def record(self, sweep, run_id, step):
        return self.sweep(sweep).record(self.row(sweep, run_id), step)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.store = os.path.join(cls.dir, "sweeps.h5")
        for name, config in (("grid", GRID), ("blowup", BLOWUP)):
            path = os.path.join(cls.dir, f"{name}.ini")
            with open(path, "w") as f:
                f.write(config)
            out = subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root",
                                  BIN, "sweep", path, "--store", cls.store, "-q"],
                                 capture_output=True, text=True, env=ENV, timeout=120)
            # blowup has a failed run, so that sweep exits 1 after finishing the other
            if out.returncode not in (0, 1 if name == "blowup" else 0):
                raise RuntimeError(f"sweep {name}: {out.stderr}")
        cls.out = os.path.join(cls.dir, "report")
        cls.result = report(cls.store, cls.out)
        cls.raw = Raw(cls.store)

    @classmethod
    def tearDownClass(cls):
        cls.raw.close()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.out, name)

    def page(self, folder=None):
        with open(os.path.join(folder or self.out, "index.html"), encoding="utf-8") as f:
            return f.read()

    def test_every_figure_written(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIn(os.path.join(self.out, "index.html"), self.result.stdout)
        html = self.page()
        for sweep, figures in FIGURES.items():
            for figure in figures:
                png = f"{sweep}_{figure}.png"
                with open(self.path(png), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", png)
                self.assertIn(f'<img src="{png}"', html)
                self.assertTrue(os.path.getsize(self.path(f"{sweep}_{figure}.csv")) > 0)
            self.assertTrue(os.path.exists(self.path(f"{sweep}_table.csv")))
        self.assertFalse(os.path.exists(self.path("blowup_gd_error.png")))
        # Skipped with a note: too few step sizes, and no two-layer runs for the width figures.
        self.assertIn("Not drawn: needs at least 3 finished runs that differ only in eta/eta_rel", html)
        self.assertEqual(html.count("Not drawn: no two-layer runs"), 6)
        for sweep, figures in FIGURES.items():
            for figure in figures:  # the static figure as SVG too
                with open(self.path(f"{sweep}_{figure}.svg"), encoding="utf-8") as f:
                    self.assertIn("<svg", f.read(2000))
        # Offline: nothing but the files next to it is referenced; the one script it loads is
        # the plotting library beside it (Debian's plotly.js, byte for byte).
        for needle in ("http://", "https://", "<link", "url(", "@import"):
            self.assertNotIn(needle, html)
        self.assertEqual(re.findall(r"<script src=\"([^\"]*)\"", html), ["plotly.js"])
        from plotly.offline import get_plotlyjs
        with open(self.path("plotly.js"), encoding="utf-8") as f:
            self.assertEqual(f.read(), get_plotlyjs())

    def test_collapse_csv_equals_raw(self):
        for sweep in FIGURES:
            rows = read_csv(self.path(f"{sweep}_collapse.csv"))
            per_run = {}
            for row in rows:
                per_run.setdefault(row["run_id"], []).append(row)
            # every reached record of every finished run, once
            ids = self.raw.sweep(sweep).ids
            self.assertEqual(sorted(per_run), sorted(ids))
            for run_id, records in per_run.items():
                run = self.raw.run(sweep, run_id)
                row = self.raw.row(sweep, run_id)
                config = self.raw.config(sweep, row)
                steps = run["step"]
                self.assertEqual([int(r["step"]) for r in records], [int(s) for s in steps if s >= 0])
                ev = run["eigenvalues"]
                naive = config["dynamics"] != "orthogonal"
                t = run["t"][steps >= 0]
                ratio = run["gd_s2_s1"][steps >= 0]
                if naive:  # the anchor: first record with s2/s1 <= 1e-3, else the last finite one
                    finite = np.flatnonzero(np.isfinite(ratio))
                    below = finite[ratio[finite] <= 1e-3]
                    a = below[0] if len(below) else finite[-1]
                for j, r in enumerate(records):
                    i = self.raw.record(sweep, run_id, int(r["step"]))
                    self.assertEqual(r["dynamics"], config["dynamics"])
                    self.assertEqual(r["loss"], config["loss"])
                    self.assertEqual(r["k"], config["k"])
                    self.assertEqual(r["status"], self.raw.status(sweep, row))
                    self.assertEqual(float(r["eta"]), self.raw.result(sweep, row, "eta_used"))
                    for column, name in (("t", "t"), ("s2_s1", "s2_s1"),
                                         ("effective_rank", "effective_rank")):
                        stored = run[name if name == "t" else f"gd_{name}"][i]
                        self.assertTrue(close(float(r[column]), stored, 0), column)
                    if naive:
                        rate = 2 * (ev[0] - ev[1])
                        self.assertEqual(float(r["lambda1"]), ev[0])
                        self.assertEqual(float(r["lambda2"]), ev[1])
                        self.assertEqual(float(r["predicted_rate"]), rate)
                        with np.errstate(over="ignore"):
                            predicted = ratio[a] * math.exp(min(-rate * (t[j] - t[a]), 700.0))
                        self.assertTrue(close(float(r["predicted_s2_s1"]), predicted) or
                                        (predicted > 1e300 and float(r["predicted_s2_s1"]) > 1e300))
                    else:
                        self.assertTrue(math.isnan(float(r["predicted_rate"])))

    def test_collapse_rates_equal_a_numpy_fit(self):
        rows = read_csv(self.path("grid_collapse_rates.csv"))
        self.assertEqual(len(rows), 8)  # the sphere runs
        fitted = 0
        for r in rows:
            run = self.raw.run("grid", r["run_id"])
            steps = run["step"]
            t, ratio = run["t"][steps >= 0], run["gd_s2_s1"][steps >= 0]
            use = (ratio >= 1e-12) & (ratio <= 1e-2)
            self.assertEqual(int(r["measured_points"]), int(use.sum()))
            if use.sum() >= 2:
                slope = np.polyfit(t[use], np.log(ratio[use]), 1)[0]
                self.assertTrue(close(float(r["measured_rate"]), -slope), (r["measured_rate"], -slope))
                fitted += 1
        self.assertGreater(fitted, 3)

    def test_theory_csv_equals_raw(self):
        rows = read_csv(self.path("grid_theory.csv"))
        drawn = sorted({r["run_id"] for r in rows})
        # one run per (dynamics, loss): the smallest step, eta_rel = 0.02
        expected = []
        for row in range(len(self.raw.sweep("grid"))):
            if self.raw.config("grid", row)["eta_rel"] == "0.02":
                expected.append(self.raw.sweep("grid").ids[row])
        self.assertEqual(drawn, sorted(expected))
        for r in rows:
            run = self.raw.run("grid", r["run_id"])
            i = self.raw.record("grid", r["run_id"], int(r["step"]))
            self.assertEqual(float(r["t"]), run["t"][i])
            for prefix, name in (("loss", "loss"), ("sin_angle", "topk_sin_angle")):
                gd, flow = run[f"gd_{name}"][i], run[f"theory_{name}"][i]
                self.assertEqual(float(r[f"{prefix}_gd"]), gd)
                self.assertEqual(float(r[f"{prefix}_theory"]), flow)
                self.assertEqual(float(r[f"{prefix}_difference"]), gd - flow)

    def test_gd_error_csv_and_fit_equal_raw(self):
        points = read_csv(self.path("grid_gd_error.csv"))
        fits = read_csv(self.path("grid_gd_error_fit.csv"))
        self.assertEqual(len(fits), 4)  # (loss, dynamics) groups, four step sizes each
        for fit in fits:
            mine = [p for p in points if p["group"] == fit["group"]]
            self.assertEqual(len(mine), 4)
            configs = [self.raw.config("grid", self.raw.row("grid", p["run_id"])) for p in mine]
            for c in configs:  # the runs differ only in the step size
                self.assertEqual({k: v for k, v in c.items() if k not in ("eta", "eta_rel")},
                                 {k: v for k, v in configs[0].items() if k not in ("eta", "eta_rel")})
            runs = [self.raw.run("grid", p["run_id"]) for p in mine]
            times = [np.where(r["step"] >= 0, r["t"], np.nan) for r in runs]
            distances = [r["theory_distance"] for r in runs]
            etas = [self.raw.result("grid", self.raw.row("grid", p["run_id"]), "eta_used") for p in mine]
            # t*: the largest record time of the coarsest run that all reach with errors >= 1e-10
            common = min(np.nanmax(t) for t in times)
            coarse = times[int(np.argmax(etas))]
            t_star = None
            for t in sorted(coarse[np.isfinite(coarse)], reverse=True):
                if t > common * (1 + 1e-12):
                    continue
                near = [int(np.nanargmin(np.abs(ts - t))) for ts in times]
                if all(d[i] >= 1e-10 for d, i in zip(distances, near)):
                    t_star = t
                    break
            self.assertEqual(float(fit["t_star"]), t_star)
            errors = []
            for p, ts, d, eta in zip(mine, times, distances, etas):
                i = int(np.nanargmin(np.abs(ts - t_star)))
                self.assertEqual(float(p["t_star"]), t_star)
                self.assertEqual(float(p["t_record"]), ts[i])
                self.assertEqual(float(p["error"]), d[i])
                self.assertEqual(float(p["eta"]), eta)
                errors.append(d[i])
            x, y = np.log(etas), np.log(errors)
            slope, intercept = np.polyfit(x, y, 1)
            resid = y - (intercept + slope * x)
            stderr = math.sqrt(np.sum(resid ** 2) / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
            q = T975[len(x) - 2]
            for column, value in (("slope", slope), ("intercept", intercept),
                                  ("slope_stderr", stderr)):
                self.assertTrue(close(float(fit[column]), value), (column, fit[column], value))
            # The quantile is scipy's, within 1e-9 of the closed form (StudentTTest).
            for column, value in (("t_quantile", q), ("slope_low", slope - q * stderr),
                                  ("slope_high", slope + q * stderr)):
                self.assertTrue(close(float(fit[column]), value, 1e-9), (column, fit[column], value))
            self.assertEqual(int(fit["n"]), 4)
            # THEORY 4.2: O(η)
            self.assertLess(abs(float(fit["slope"]) - 1), 0.1)

    def test_table_equals_index_and_marks_failures(self):
        for sweep in FIGURES:
            rows = read_csv(self.path(f"{sweep}_table.csv"))
            index = self.raw.sweep(sweep)
            self.assertEqual(len(rows), len(index))
            axes = [a for a in text(index.group.attrs["axes"]).split(",") if a]
            for n, r in enumerate(rows):
                self.assertEqual(r["run_id"], index.ids[n])
                self.assertEqual(r["status"], self.raw.status(sweep, n))
                for a in axes:
                    self.assertEqual(r[a], index.config(n)[a])
                for column in ("final_loss", "final_effective_rank", "final_theory_distance",
                               "max_theory_distance", "eta_used", "seconds"):
                    self.assertTrue(close(float(r[column]), index[column][n], 0))
                self.assertEqual(r["failure"], index.result("failure", n))
        failed = [r for r in read_csv(self.path("blowup_table.csv")) if r["status"] == "failed"]
        self.assertEqual(len(failed), 1)
        html = self.page()
        self.assertIn('<tr class="failed"><td>', html)
        self.assertIn(f"<td>{failed[0]['run_id']}</td><td>FAILED</td>", html)

    def test_missing_section_still_yields_a_page(self):
        # A copy whose runs lost their closed-form flow: that figure goes, the others stay.
        copy = os.path.join(self.dir, "no-theory.h5")
        shutil.copy(self.store, copy)
        with h5py.File(copy, "r+") as f:
            sweep = f["sweeps/grid"]
            for name in [n for n in sweep if n.startswith("theory_") and n != "theory_distance"]:
                del sweep[name]
        out = os.path.join(self.dir, "report-no-theory")
        result = report(copy, out, "--sweep", "grid")
        self.assertEqual(result.returncode, 0, result.stderr)
        names = set(os.listdir(out))
        self.assertFalse({"grid_theory.png", "grid_theory.csv"} & names)
        self.assertTrue({"grid_collapse.png", "grid_gd_error.png", "grid_table.csv"} <= names)
        self.assertFalse(any(n.startswith("blowup") for n in names))  # --sweep
        self.assertIn("Not drawn: the store has no theory/ section", self.page(out))

    def test_single_run_store_and_replacing_a_report(self):
        single = os.path.join(self.dir, "single.h5")
        subprocess.run([BIN, "run", "--data", "spiked", "--d", "12", "--k", "3", "--n", "300",
                        "--dynamics", "sphere", "--steps", "100", "--record_every", "10",
                        "--store", single, "-q"], check=True, capture_output=True, env=ENV)
        out = os.path.join(self.dir, "report-single")
        os.makedirs(out)
        for name in (".ssldyn-report", "stale.png"):  # an earlier report: replaced as a whole
            open(os.path.join(out, name), "w").close()
        result = report(single, out, command=[BIN, "report"])  # through the ssldyn command
        self.assertEqual(result.returncode, 0, result.stderr)
        names = set(os.listdir(out))
        self.assertNotIn("stale.png", names)
        self.assertTrue({"single_collapse.png", "single_theory.png", "index.html"} <= names)
        self.assertNotIn("single_gd_error.png", names)
        self.assertIn("this sweep&#x27;s axes: none", self.page(out))

    def test_diverged_runs_are_drawn_up_to_their_divergence(self):
        config = os.path.join(self.dir, "diverge.ini")
        with open(config, "w") as f:
            f.write(DIVERGE)
        store = os.path.join(self.dir, "diverge.h5")
        out = subprocess.run([BIN, "sweep", config, "--store", store, "-q"], capture_output=True,
                             text=True, env=ENV, timeout=120)
        self.assertEqual(out.returncode, 1, out.stderr)  # the naive runs failed
        raw = Raw(store)
        self.addCleanup(raw.close)
        ids = raw.sweep("diverge").ids
        drawn = ids[0]  # the smallest step of naive GD is the run the theory figure draws
        loss = raw.run("diverge", drawn)["gd_loss"]
        self.assertLess(np.min(loss[np.isfinite(loss)]), -1e308)  # the case it is about
        folder = os.path.join(self.dir, "report-diverge")
        result = report(store, folder, command=[BIN, "report"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertNotIn("Warning", result.stderr)
        with open(os.path.join(folder, "diverge_theory.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        html = self.page(folder)
        self.assertIn('<img src="diverge_theory.png"', html)
        self.assertIn(f"Diverged (gradient descent or its flow): {drawn}.", html)
        self.assertNotIn(ids[2], html.split("Diverged")[1].split("</p>")[0])  # converged
        # The CSV keeps every value, the ones not drawn too.
        rows = [r for r in read_csv(os.path.join(folder, "diverge_theory.csv"))
                if r["run_id"] == drawn]
        self.assertIn(np.min(loss[np.isfinite(loss)]), [float(r["loss_gd"]) for r in rows])

    def test_folders_of_killed_reports_are_removed_once_their_process_is_gone(self):
        folder = os.path.join(self.dir, "leftovers")
        os.makedirs(folder)
        store = os.path.join(folder, "s.h5")
        subprocess.run([BIN, "run", "--data", "spiked", "--d", "12", "--k", "3", "--n", "300",
                        "--steps", "20", "--store", store, "-q"], check=True, capture_output=True,
                       env=ENV)
        dead = 4194305  # above Linux's largest pid: no process has it
        gone = [f".rep.{dead}.k1ll3d", f".rep.{dead}.old-x7"]   # a report built, an old one
        kept = [f".rep.{os.getpid()}.busy",  # a report of a live process (this test's)
                ".rep.notapid", f".other.{dead}.x", ".rep.12345678901.x"]  # not ours to judge
        for name in gone + kept:
            os.makedirs(os.path.join(folder, name))
            with open(os.path.join(folder, name, "figure.png"), "wb") as f:
                f.write(b"\x89PNG partial")
        result = report(store, os.path.join(folder, "rep"), command=[BIN, "report"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(os.listdir(folder)), sorted(kept + ["rep", "s.h5"]))
        # A bad input removes nothing: it writes nothing at all.
        os.makedirs(os.path.join(folder, gone[0]))
        result = report(store, os.path.join(folder, "rep"), "--sweep", "nosuch")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(gone[0], os.listdir(folder))

    def test_width_figures_from_the_network_section(self):
        """The network/ section of two-layer runs (ssldyn.store.SECTIONS): synthetic power
        laws in a copy must come back as their exponents."""
        copy = os.path.join(self.dir, "width.h5")
        shutil.copy(self.store, copy)
        widths = {"0.02": 16, "0.04": 64, "0.08": 256, "0.16": 1024}
        exponents = {"tanh": -1.0, "gelu": -0.5}
        with h5py.File(copy, "r+") as f:
            sweep = f["sweeps/grid"]
            raw = RawSweep(sweep)
            n = len(raw)
            config = [raw.config(row) for row in range(n)]
            h = np.array([widths[c["eta_rel"]] for c in config])
            act = ["tanh" if c["dynamics"] == "sphere" else "gelu" for c in config]
            model = ["supervised" if c["loss"] == "contrastive" else "two-layer" for c in config]
            # The settings rewritten (text of another length in a dataset of its own), the
            # series created as ssldyn would for two-layer runs: one row per run.
            sweep["h"][...] = h
            for key, values in (("activation", act), ("model", model)):
                sweep[key].dims[0].detach_scale(sweep["run"])
                del sweep[key]
                sweep[key] = np.array([v.encode() for v in values])
            t = sweep["t"][()]
            power = (h ** np.array([exponents[a] for a in act]))[:, None]
            lazy = (h ** np.array([-0.5 if m == "supervised" else 0.0 for m in model]))[:, None]
            # constant from t = 0.5 on, which every run reaches: exact power laws at the end
            sweep["network_output_deviation"] = 0.3 * power * (1 + np.minimum(t, 0.5))
            sweep["network_gram_deviation"] = 0.5 * power * (1 + np.minimum(t, 0.5))
            sweep["network_loss_deviation"] = 0.1 * power * np.minimum(t, 0.5)
            sweep["network_weight_change"] = 0.8 * lazy * np.minimum(t, 0.5)
            sweep["network_kernel_change"] = 0.2 * lazy * np.minimum(t, 0.5)
            self.assertEqual(n, len(h))
        out = os.path.join(self.dir, "report-width")
        result = report(copy, out, "--sweep", "grid")
        self.assertEqual(result.returncode, 0, result.stderr)
        raw = Raw(copy)
        try:
            for r in read_csv(os.path.join(out, "grid_linear_limit.csv")):
                d = raw.run("grid", r["run_id"])["network_output_deviation"]
                self.assertEqual(float(r["deviation_initial"]), d[0])
                self.assertEqual(float(r["deviation_last"]), d[-1])
            for r in read_csv(os.path.join(out, "grid_ntk.csv")):
                run = raw.run("grid", r["run_id"])
                self.assertEqual(float(r["weight_change"]), run["network_weight_change"][-1])
                self.assertEqual(float(r["kernel_change"]), run["network_kernel_change"][-1])
        finally:
            raw.close()
        for name in ("grid_linear_limit_fit.csv", "grid_linear_pair_fit.csv"):
            fits = read_csv(os.path.join(out, name))
            self.assertEqual(len(fits), 4, name)  # two activations, two panels
            for fit in fits:
                self.assertTrue(close(float(fit["exponent"]), exponents[fit["group"]], 1e-9), fit)
        # Laziness per objective and activation (tanh and gelu apart, not pooled).
        lazy = read_csv(os.path.join(out, "grid_ntk_fit.csv"))
        self.assertEqual(sorted({r["group"] for r in lazy}),
                         ["SSL, gelu", "SSL, tanh", "supervised, gelu", "supervised, tanh"])
        for r in lazy:
            expected = -0.5 if r["group"].startswith("supervised") else 0.0
            self.assertLess(abs(float(r["exponent"]) - expected), 1e-9, r)
        # The reference slopes drawn beside (THEORY §4.3-4.4), read from the interactive
        # figures: a line through each group's points with the exponent theory gives it.
        expected = {"linear_limit": {"tanh": -1.0, "gelu": -0.5},
                    "ntk": {"supervised, tanh": -0.5, "supervised, gelu": -0.5,
                            "SSL, tanh": 0.0, "SSL, gelu": 0.0}}
        for figure, slopes in expected.items():
            spec = figure_spec(self.page(out), f"sweep-grid-{figure}")
            found = {}
            for trace in spec["data"]:
                hover = trace.get("hovertemplate", "")
                if ": reference h^" in hover:
                    x, y = np.log(trace["x"]), np.log(trace["y"])
                    group = hover.split(": reference")[0]
                    found.setdefault(group, []).append(np.polyfit(x, y, 1)[0])
            self.assertEqual(sorted(found), sorted(slopes), figure)
            for group, fitted in found.items():
                self.assertEqual(len(fitted), 2)  # both panels
                for slope in fitted:
                    self.assertLess(abs(slope - slopes[group]), 1e-9, (figure, group))
        self.assertTrue(os.path.exists(os.path.join(out, "grid_linear_limit.png")))
        self.assertTrue(os.path.exists(os.path.join(out, "grid_ntk.png")))

    def test_bad_input_exits_2_and_writes_nothing(self):
        folder = os.path.join(self.dir, "bad")
        os.makedirs(folder, exist_ok=True)
        text_file = os.path.join(folder, "notes.txt")
        with open(text_file, "w") as f:
            f.write("not hdf5\n")
        no_schema = os.path.join(folder, "plain.h5")
        with h5py.File(no_schema, "w") as f:
            f.create_group("x")
        occupied = os.path.join(folder, "occupied")
        os.makedirs(occupied, exist_ok=True)
        open(os.path.join(occupied, "mine.txt"), "w").close()
        cases = [(os.path.join(folder, "missing.h5"), "out1", [], "missing.h5"),
                 (text_file, "out2", [], "notes.txt"),
                 (no_schema, "out3", [], "no schema_version"),
                 (self.store, "out4", ["--sweep", "nosuch"], "nosuch"),
                 (self.store, "occupied", [], "occupied")]
        before = sorted(os.listdir(folder))
        for store, out, extra, named in cases:
            result = report(store, os.path.join(folder, out), *extra)
            self.assertEqual(result.returncode, 2, (store, result.stderr))
            self.assertIn(named, result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertEqual(sorted(os.listdir(folder)), before)
        self.assertEqual(os.listdir(occupied), ["mine.txt"])
        help_text = report("--help", "x").stdout
        self.assertIn("--out DIR", help_text)

    def test_page_in_headless_chromium(self):
        if check_page.find_chromium() is None:
            self.skipTest("no chromium on PATH: install the Debian package chromium "
                          "(cmake/setup.sh deps does) to run the browser test")
        state = check_page.check(os.path.join(self.out, "index.html"))
        self.assertEqual(state["problems"], [])
        self.assertEqual(state["images"], 5)
        self.assertEqual((state["figures"], state["undrawn"]), (5, []))  # drawn by plotly.js
        # The check must fail when the plotting library is missing: no figure is drawn.
        bare = os.path.join(self.dir, "bare")
        shutil.copytree(self.out, bare)
        os.remove(os.path.join(bare, "plotly.js"))
        state = check_page.check(os.path.join(bare, "index.html"))
        self.assertEqual(len(state["undrawn"]), 5)
        self.assertTrue(any("plotly.js" in p for p in state["problems"]), state["problems"])
        # The check must fail on a missing image, and on a script error.
        broken = os.path.join(self.dir, "broken")
        shutil.copytree(self.out, broken)
        os.remove(os.path.join(broken, "grid_gd_error.png"))
        state = check_page.check(os.path.join(broken, "index.html"))
        self.assertEqual(state["broken"], ["grid_gd_error.png"])
        self.assertTrue(state["problems"])
        erring = os.path.join(self.dir, "erring")
        shutil.copytree(self.out, erring)
        page = os.path.join(erring, "index.html")
        with open(page, encoding="utf-8") as f:
            html = f.read()
        with open(page, "w", encoding="utf-8") as f:
            f.write(html.replace("</body>", "<script>no_such_function();</script></body>"))
        state = check_page.check(page)
        self.assertEqual(state["broken"], [])
        self.assertTrue(any("no_such_function" in p for p in state["problems"]), state)


    def test_hover_and_filter_in_headless_chromium(self):
        """A reader's hover over a run's point shows its id and settings; choosing a setting's
        value in the sweep's filter leaves drawn only the runs that have it."""
        if check_page.find_chromium() is None:
            self.skipTest("no chromium on PATH")
        sweep = self.raw.sweep("grid")
        configs = [self.raw.config("grid", row) for row in range(len(sweep))]
        hovered = next(sweep.ids[r] for r, c in enumerate(configs)
                       if c["eta_rel"] == "0.02" and c["dynamics"] == "sphere")
        orthogonal = [sweep.ids[r] for r, c in enumerate(configs) if c["dynamics"] == "orthogonal"]
        state = check_page.check(os.path.join(self.out, "index.html"), probe={
            "figure": "plot-sweep-grid-theory", "run": hovered, "section": "sweep-grid",
            "setting": "dynamics", "value": "orthogonal"})
        self.assertEqual(state["problems"], [])
        probe = state["probe"]
        self.assertEqual(probe["hovered_run"], hovered, probe)
        self.assertIn(f"run {hovered}", probe["hover_text"])
        config = configs[sweep.ids.index(hovered)]
        for key in ("loss", "dynamics", "eta_rel"):  # the settings that vary in the sweep
            self.assertIn(f"{key} = {config[key]}", probe["hover_text"])
        figures = probe["figures"]
        self.assertEqual(sorted(figures), ["plot-sweep-grid-collapse", "plot-sweep-grid-gd_error",
                                           "plot-sweep-grid-theory"])
        for name, drawn in figures.items():
            self.assertTrue(drawn["runs"], name)
            self.assertLessEqual(set(drawn["runs"]), set(orthogonal), name)
            self.assertEqual(drawn["svg_traces"], drawn["visible_traces"], name)
        self.assertEqual(set(figures["plot-sweep-grid-collapse"]["runs"]), set(orthogonal))
        self.assertEqual(probe["table_runs"], orthogonal)
        self.assertEqual(probe["count"], f"{len(orthogonal)} of {len(sweep)} runs shown")

    def test_interactive_figures_are_valid_plotly(self):
        """Every figure's specification passes plotly's own validation (its schema of trace
        and layout attributes), and each run's trace says which run it is."""
        import plotly.graph_objects as go
        html = self.page()
        idents = re.findall(r'<script type="application/json" id="spec-([^"]*)">', html)
        self.assertEqual(len(idents), 5)
        ids = set(self.raw.sweep("grid").ids) | set(self.raw.sweep("blowup").ids)
        for ident in idents:
            spec = figure_spec(html, ident)
            go.Figure(spec)  # raises on an attribute plotly does not know
            runs = {r for trace in spec["data"] for r in trace["meta"]["runs"]}
            self.assertTrue(runs and runs <= ids, ident)

    def test_gd_error_flags_exponents_that_exclude_one(self):
        """Synthetic errors in a copy, one law per group: b = 1 (not flagged); b > 1 from
        O(η²) terms that fade as η falls (η too large); b = 1 early and 0.3 once the errors
        saturate (t* too late); b = 1/2 throughout (no cause found)."""
        copy = os.path.join(self.dir, "flags.h5")
        shutil.copy(self.store, copy)
        t_star = 0.7  # every run of the grid reaches it (its finest ends at t = 0.74)
        with h5py.File(copy, "r+") as f:
            sweep = f["sweeps/grid"]
            raw = RawSweep(sweep)
            t = sweep["t"][()]
            eta = sweep["eta_used"][()]
            distance = np.zeros_like(t)
            for row in range(len(raw)):
                c = raw.config(row)
                rank = sorted(eta[r] for r in range(len(raw)) if raw.config(r)["loss"] == c["loss"]
                              and raw.config(r)["dynamics"] == c["dynamics"]).index(eta[row])
                e, tt = eta[row], t[row]
                wiggle = 1 + 3e-3 * (-1) ** rank  # an interval of some width
                law = {("noncontrastive", "sphere"): 1e-2 * e + 0 * tt,
                       ("noncontrastive", "orthogonal"): 1e-2 * e * (1 + 0.5 * e / 0.0299) + 0 * tt,
                       ("contrastive", "sphere"): np.where(tt < 0.45, 1e-2 * e, 1e-3 * e ** 0.3),
                       ("contrastive", "orthogonal"): 1e-2 * e ** 0.5 + 0 * tt}
                distance[row] = np.where(tt > 0, law[(c["loss"], c["dynamics"])] * wiggle, 0.0)
            sweep["theory_distance"][...] = distance
        out = os.path.join(self.dir, "report-flags")
        result = report(copy, out, "--sweep", "grid", "--gd-error-t", str(t_star))
        self.assertEqual(result.returncode, 0, result.stderr)
        fits = {(r["label"]): r for r in read_csv(os.path.join(out, "grid_gd_error_fit.csv"))}
        causes = {"loss=noncontrastive dynamics=sphere": None,
                  "loss=noncontrastive dynamics=orthogonal": "η too large",
                  "loss=contrastive dynamics=sphere": "t* too late",
                  "loss=contrastive dynamics=orthogonal": "not found"}
        self.assertEqual(sorted(fits), sorted(causes))
        html = self.page(out)
        for label, cause in causes.items():
            fit = fits[label]
            low, high = float(fit["slope_low"]), float(fit["slope_high"])
            self.assertEqual(fit["excludes_1"], str(cause is not None), fit)
            self.assertEqual(low > 1 or high < 1, cause is not None, fit)  # the interval itself
            flagged = f"Group {fit['group']} ({label}): b = "
            if cause is None:
                self.assertEqual(fit["probable_cause"], "")
                self.assertNotIn(flagged, html)
            else:
                self.assertTrue(fit["probable_cause"].startswith(cause), fit)
                note = html.split(flagged)[1].split("</p>")[0]
                self.assertIn(f"Probable cause: {escape(cause)}", note)
                self.assertIn("excludes the theory&#x27;s b = 1", note)
        self.assertEqual(html.count("<td>EXCLUDED</td>"), 3)


    def test_several_stores_in_one_report_overlaid(self):
        """Two stores (through the ssldyn command): a section per sweep of each, and one more
        with the runs of both overlaid, their ids qualified by their source; its fits per
        source equal those of the one-store report."""
        other = os.path.join(self.dir, "other.h5")
        shutil.copy(self.store, other)
        out = os.path.join(self.dir, "report-two")
        result = subprocess.run([BIN, "report", self.store, other, "--out", out, "--sweep",
                                 "grid"], capture_output=True, text=True, env=ENV, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        html = self.page(out)
        for ident in ("sweep-sweeps-grid", "sweep-other-grid",
                      "sweep-overlay-of-sweeps-grid--other-grid"):
            self.assertIn(f'<section id="{ident}">', html)
        self.assertNotIn("blowup", html)
        names = set(os.listdir(out))
        for stem in ("sweeps_grid_", "other_grid_", "overlay1_"):
            self.assertTrue({f"{stem}collapse.png", f"{stem}collapse.svg",
                             f"{stem}gd_error_fit.csv"} <= names, stem)
        ids = self.raw.sweep("grid").ids
        overlaid = {r["run_id"] for r in read_csv(os.path.join(out, "overlay1_collapse.csv"))}
        self.assertEqual(overlaid, {f"{source}/{i}" for source in ("sweeps/grid", "other/grid")
                                    for i in ids})
        single = {r["label"]: r for r in read_csv(self.path("grid_gd_error_fit.csv"))}
        fits = read_csv(os.path.join(out, "overlay1_gd_error_fit.csv"))
        self.assertEqual(len(fits), 2 * len(single))
        for fit in fits:
            source, _, label = fit["label"].partition(" ")
            self.assertIn(source, ("source=sweeps/grid", "source=other/grid"))
            self.assertEqual(float(fit["slope"]), float(single[label]["slope"]))
        # Bad input: exit 2 naming it, nothing written.
        before = sorted(os.listdir(self.dir))
        missing = os.path.join(self.dir, "missing.h5")
        for args, named in (([self.store, other], "--out"),
                            ([self.store, missing, "--out", out + "-x"], "missing.h5"),
                            ([self.store, self.store, "--out", out + "-x"], "given twice"),
                            ([self.store, other, "--sweep", "nosuch", "--out", out + "-x"],
                             "no sweep named nosuch")):
            result = subprocess.run([BIN, "report", *args], capture_output=True, text=True,
                                    env=ENV, timeout=120)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertIn(named, result.stderr)
            self.assertEqual(result.stdout, "")
        self.assertEqual(sorted(os.listdir(self.dir)), before)


class StudentTTest(unittest.TestCase):
    """The t quantile of the exponent intervals (scipy.stats.t.ppf) against closed forms and a
    tabulated value. Tolerance 1e-9 relative: scipy inverts the t distribution numerically, and
    is measured up to 2.3e-10 from the closed forms (df = 4, p = 0.9); a wrong probability or
    number of degrees of freedom is off by more than 1e-2."""

    def test_quantiles_equal_closed_forms(self):
        sys.path.insert(0, os.path.join(SOURCE, "analysis"))
        from ssldyn.stats import t_quantile
        for p in (0.9, 0.975, 0.995):
            self.assertTrue(close(t_quantile(p, 1), math.tan(math.pi * (p - 0.5)), 1e-9))
            self.assertTrue(close(t_quantile(p, 2), (2 * p - 1) / math.sqrt(2 * p * (1 - p)),
                                  1e-9))
            a = 4 * p * (1 - p)
            q = math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a)
            self.assertTrue(close(t_quantile(p, 4), 2 * math.sqrt(q - 1), 1e-9))
        # Large df: the normal quantile and the Cornish-Fisher terms in 1/df and 1/df^2
        # (Abramowitz and Stegun 26.7.5); the next term is O(1/df^3), 1e-15 here.
        z, df = 1.959963984540054, 1e5
        series = z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
        self.assertTrue(close(t_quantile(0.975, df), series, 1e-9))
        # Tabulated (Student's t table, 6 digits): t_{0.975, 3} = 3.18245, t_{0.975, 10} = 2.22814.
        self.assertAlmostEqual(t_quantile(0.975, 3), 3.18245, delta=5e-6)
        self.assertAlmostEqual(t_quantile(0.975, 10), 2.22814, delta=5e-6)
        with self.assertRaises(ValueError):
            t_quantile(0.4, 3)


if __name__ == "__main__":
    unittest.main()
