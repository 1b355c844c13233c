"""`ssldyn query --where` on a real store: the runs each expression selects, worked out again here
from the sweep's columns read with h5py; bad expressions (exit 2, one line naming the token, nothing
on stdout); a valid query that matches nothing (exit 0, a note on stderr); typed JSON and CSV;
the columns shown by default and with --columns. The Python package's Sweep.where selects the
same runs and refuses the same mistakes with the same messages."""

import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from raw_store import RawStore

sys.path.insert(0, os.path.join(os.environ.get(
    "SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "analysis"))
import ssldyn  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# Two sweeps of one store: `tiny` over k and dynamics at d = 16, `wide` at d = 32 with k = 16
# (so that k > 9 tells numbers from text: as text, "16" < "9").
TINY = """[sweep]
name = tiny
[fixed]
data = spiked
d = 16
n = 200
steps = 20
record_every = 5
[axes]
k = 2, 4
dynamics = orthogonal, naive
"""
WIDE = """[sweep]
name = wide
[fixed]
data = spiked
d = 32
n = 200
steps = 20
record_every = 5
dynamics = naive
[axes]
k = 2, 16
"""


def read_runs(store):
    """One dict per run of every sweep: run_id, sweep, status, settings (as text, as ssldyn
    prints them) and results."""
    runs = []
    with RawStore(store) as raw:
        for name in raw.sweeps():
            sweep = raw.sweep(name)
            results = sweep.results()
            for row, run_id in enumerate(sweep.ids):
                run = {"run_id": run_id, "sweep": name, "status": int(sweep["status"][row])}
                run.update(sweep.config(row))
                run.update({column: sweep[column][row] for column in results})
                runs.append(run)
    return runs


class QueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.store = os.path.join(cls.tmp.name, "q.h5")
        for name, config in (("tiny", TINY), ("wide", WIDE)):
            path = os.path.join(cls.tmp.name, name + ".ini")
            with open(path, "w") as f:
                f.write(config)
            out = subprocess.run([BIN, "sweep", path, "--store", cls.store, "-q"], env=ENV,
                                 capture_output=True, text=True, timeout=300)
            if out.returncode != 0:
                raise RuntimeError(f"could not make the store: {out.stderr}")
        cls.runs = read_runs(cls.store)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def query(self, *args):
        return subprocess.run([BIN, "query", self.store, *args], env=ENV, capture_output=True,
                              text=True, timeout=120)

    def rows(self, *args):
        out = self.query(*args, "--format", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def selected(self, where, *args):
        return sorted(row["run_id"] for row in self.rows("--where", where, *args))

    def expected(self, keep):
        return sorted(run["run_id"] for run in self.runs if keep(run))

    def test_store_is_as_planned(self):
        self.assertEqual(len(self.runs), 6)
        self.assertEqual({int(r["k"]) for r in self.runs}, {2, 4, 16})

    def test_expressions_select_their_runs(self):
        cases = [
            ("k==2 or k==4", lambda r: True if r["sweep"] == "tiny" else r["k"] == "2"),
            ("not (k == 2)", lambda r: r["k"] != "2"),
            ("k in (2, 4) and dynamics == 'naive'",
             lambda r: r["k"] in ("2", "4") and r["dynamics"] == "naive"),
            ("k > 9", lambda r: int(r["k"]) > 9),
            ("k>3 and sweep==tiny or d == 32 and not k in (16)",
             lambda r: (int(r["k"]) > 3 and r["sweep"] == "tiny")
             or (r["d"] == "32" and r["k"] != "16")),
            ("final_effective_rank < 2.5 and status == done",
             lambda r: r["final_effective_rank"] < 2.5 and r["status"] == 2),
        ]
        for where, keep in cases:
            with self.subTest(where=where):
                want = self.expected(keep)
                self.assertTrue(want, "a case that selects nothing tells nothing")
                self.assertEqual(self.selected(where), want)
        self.assertEqual(self.selected("k==2 or k==4", "--sweep", "tiny"),
                         self.expected(lambda r: r["sweep"] == "tiny"))

    def assert_bad(self, where, *named):
        out = self.query("--where", where)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertEqual(out.stdout, "")
        lines = out.stderr.splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertTrue(lines[0].startswith(f"ssldyn: error: --where '{where}': "), lines[0])
        for name in named:
            self.assertIn(name, lines[0])
        return lines[0]

    def test_bad_expressions_name_the_token(self):
        self.assert_bad("dynamics==spher", "'spher'", "position 11", "naive, orthogonal")
        self.assert_bad("k>>3", "'>' at position 3")
        # Every setting is listed; of the sixty-odd results, those that resemble the name.
        line = self.assert_bad("kk==2", "unknown name 'kk' at position 1",
                               "results (--columns all shows them)")
        with RawStore(self.store) as raw:
            settings = raw.sweep("tiny").settings
            results = raw.sweep("tiny").results()
        for name in settings:
            self.assertRegex(line, rf"[ :]{name}[,;]")
        self.assertIn(f"{len(results)} results", line)
        self.assert_bad("final_los < 0", "results like it: final_loss, final_loss_deviation")
        self.assert_bad("k==3", "'3'", "2, 4, 16")
        self.assert_bad("(k==2 or k==4", "')'", "the end of the expression")
        self.assert_bad("loss < contrastive", "orders text")

    def test_no_match_is_a_note(self):
        out = self.query("--where", "k==2 and dynamics==orthogonal and sweep==wide",
                         "--format", "csv")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(out.stdout.splitlines()), 1)  # the header alone
        self.assertIn("no run of", out.stderr)
        self.assertIn("matches --where 'k==2 and dynamics==orthogonal and sweep==wide'",
                      out.stderr)
        self.assertEqual(self.rows("--where", "k==16", "--sweep", "tiny"), [])

    def test_json_values_are_typed(self):
        by_id = {run["run_id"]: run for run in self.runs}
        rows = self.rows("--columns", "k,eta_rel,dynamics,random_basis,spikes",
                         "--metric", "effective_rank,kernel_change,failure")
        self.assertEqual(len(rows), 6)
        for row in rows:
            run = by_id[row["run_id"]]
            self.assertIs(type(row["k"]), int)
            self.assertEqual(row["k"], int(run["k"]))
            self.assertIs(type(row["eta_rel"]), float)
            self.assertEqual(row["eta_rel"], float(run["eta_rel"]))
            self.assertEqual(row["dynamics"], run["dynamics"])
            self.assertEqual(row["random_basis"], "true")
            self.assertEqual(row["spikes"], run["spikes"])  # a list of numbers is text
            self.assertIs(type(row["status"]), str)
            # A JSON number (2 for an orthogonal run's rank of exactly 2.0).
            self.assertIn(type(row["final_effective_rank"]), (int, float))
            self.assertEqual(row["final_effective_rank"], run["final_effective_rank"])
            self.assertTrue(math.isnan(run["final_kernel_change"]))  # a linear run
            self.assertIsNone(row["final_kernel_change"])
            self.assertEqual(row["failure"], "")
        # CSV: NaN as an empty field, integers without decimals.
        out = self.query("--columns", "k", "--metric", "kernel_change", "--format", "csv")
        for row in csv.DictReader(io.StringIO(out.stdout)):
            self.assertEqual(row["final_kernel_change"], "")
            self.assertEqual(row["k"], by_id[row["run_id"]]["k"])

    def test_columns(self):
        identity = ["sweep", "run_id", "status"]
        metrics = ["final_effective_rank"]
        # By default the settings that differ among the matching runs: k and dynamics in tiny;
        # across both sweeps also d, which the sweeps fix at different values.
        header = list(self.rows("--sweep", "tiny", "--metric", "effective_rank")[0])
        self.assertEqual(header, identity + ["k", "dynamics"] + metrics)
        header = list(self.rows("--metric", "effective_rank")[0])
        self.assertEqual(header, identity + ["k", "dynamics", "d"] + metrics)
        # A setting named in --where is shown even when the matches share it.
        header = list(self.rows("--where", "dynamics == naive and d == 16",
                                "--metric", "effective_rank")[0])
        self.assertEqual(header, identity + ["k", "dynamics", "d"] + metrics)
        # --columns all: every setting and result column of the index, each once.
        header = list(self.rows("--columns", "all", "--metric", "effective_rank")[0])
        with RawStore(self.store) as raw:
            every = set(raw.sweep("tiny").settings) | set(raw.sweep("tiny").results())
        self.assertEqual(set(header), every | set(identity))
        self.assertEqual(len(header), len(set(header)))
        self.assertEqual(header[-1], "final_effective_rank")
        # Chosen columns, in the order given.
        header = list(self.rows("--columns", "seed,n", "--metric", "effective_rank")[0])
        self.assertEqual(header, identity + ["seed", "n"] + metrics)
        bad = self.query("--columns", "k,bogus")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--columns: unknown column 'bogus'", bad.stderr)
        self.assertIn("eta_rel", bad.stderr)


if __name__ == "__main__":
    unittest.main()


class SweepWhereTest(unittest.TestCase):
    """ssldyn's Sweep.where speaks the language of `ssldyn query --where`: on the two-sweep store
    above each expression selects the very runs the command line does, and each mistake is
    refused with the command line's message."""

    # (expression, whether it selects some but not all of the store's six runs)
    CASES = [
        ("k==2 or k==4", True),
        ("k = 2", True),
        ("not (k == 2)", True),
        ("k in (2, 4) and dynamics == 'naive'", True),
        ("k not in (2, 16)", True),
        ("k > 9", True),  # as numbers: as text "16" < "9"
        ("k >= '4' and k < 16.0", True),
        ("k>3 and sweep==tiny or d == 32 and not k in (16)", True),
        ("NOT (sweep == tiny OR k == 16) AND d == 32", True),
        ("(dynamics == naive or k == 4) and (sweep == \"wide\" or eta_rel > 0)", True),
        ("not not dynamics in (orthogonal) and status == done", True),
        ("final_effective_rank < 2.5 and status == done", True),
        ("dynamics != naive", True),
        # NaN (a linear run's kernel change) satisfies no comparison, hence != and not.
        ("final_kernel_change > 0 or final_kernel_change <= 0", False),
        ("final_kernel_change != 0 and not final_kernel_change == 0", False),
        ("k==16 and sweep==tiny", False),
    ]

    @classmethod
    def setUpClass(cls):
        QueryTest.setUpClass.__func__(cls)
        cls.opened = ssldyn.open(cls.store)

    @classmethod
    def tearDownClass(cls):
        cls.opened.close()
        cls.tmp.cleanup()

    def command_line(self, *args):
        out = subprocess.run([BIN, "query", self.store, *args, "--format", "json"], env=ENV,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [row["run_id"] for row in json.loads(out.stdout)]

    def test_selects_the_runs_query_selects(self):
        every = sorted(run["run_id"] for run in self.runs)
        for where, some in self.CASES:
            with self.subTest(where=where):
                selected = []
                for name in self.opened.sweeps():
                    view = self.opened.sweep(name).where(where)
                    # The command line lists a sweep's runs in plan order, as the view holds them.
                    self.assertEqual(view.run_ids, self.command_line("--sweep", name,
                                                                     "--where", where))
                    selected += view.run_ids
                want = sorted(self.command_line("--where", where))
                self.assertEqual(sorted(selected), want)
                self.assertEqual(some, 0 < len(want) < len(every), want)

    def test_a_view_is_its_rows_of_the_sweep(self):
        sweep = self.opened.sweep("tiny")
        view = sweep.where("dynamics == naive")
        again = view.where("k == 4")
        self.assertEqual(again.run_ids, sweep.where("dynamics == naive and k == 4").run_ids)
        self.assertEqual(len(again), 1)
        rows = [sweep.run_ids.index(i) for i in view.run_ids]
        self.assertEqual(list(view.rows), rows)
        frame, whole = view.to_dataframe(), sweep.to_dataframe()
        self.assertEqual(list(frame.index), view.run_ids)
        self.assertTrue(frame.equals(whole.iloc[rows]))
        for theory in (False, True):
            series, all_runs = view.series("loss", theory), sweep.series("loss", theory)
            np.testing.assert_array_equal(series.values, all_runs.values[rows])
            np.testing.assert_array_equal(series.t, all_runs.t[rows])
        np.testing.assert_array_equal(sweep.series("loss", theory=True).values,
                                      sweep.series("theory/loss").values)
        for row, run in zip(rows, view.runs()):
            self.assertEqual(run.id, sweep.run(row).id)
            np.testing.assert_array_equal(run.trajectory["loss"], sweep.run(row).trajectory["loss"])
            np.testing.assert_array_equal(run.spectrum, sweep.run(row).spectrum)
            np.testing.assert_array_equal(run.w0, sweep.run(row).w0)

    def test_mistakes_are_refused_as_query_refuses_them(self):
        for where in ("dynamics==spher", "k>>3", "kk==2", "final_los < 0", "k==3",
                      "(k==2 or k==4", "loss < contrastive", "k == two", "k in (2,", "k ! 2",
                      "status == finished", "sweep in (tiny, narrow)", "k == 'a", "and k == 2",
                      "k == 2 k"):
            with self.subTest(where=where):
                out = subprocess.run([BIN, "query", self.store, "--where", where], env=ENV,
                                     capture_output=True, text=True, timeout=120)
                self.assertEqual(out.returncode, 2, out.stderr)
                prefix = f"ssldyn: error: --where '{where}': "
                self.assertTrue(out.stderr.startswith(prefix), out.stderr)
                with self.assertRaises(ValueError) as raised:
                    self.opened.sweep("tiny").where(where)
                self.assertEqual(str(raised.exception),
                                 f"where '{where}': " + out.stderr[len(prefix):].rstrip("\n"))
