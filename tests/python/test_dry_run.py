"""`--dry-run` of `ssldyn sweep` and `ssldyn run` against real sweeps: the run count, axes and
shapes it reports, the memory it estimates per rank against the peak resident memory each rank
measured (the largest of a job's ranks, from getrusage of the launcher's children), and the
guard that refuses a real sweep whose run cannot fit.

Memory: the peak resident set of a process holds its baseline (the program, MPI, BLAS, HDF5 and
their buffers: some tens of MB) besides the run's data. The baseline is measured as the peak of
the same command on a tiny problem (d = 16, n = 200, five steps) and subtracted, as is the
estimate of that tiny run; the sizes are chosen so that the run's data (about 100 MB, three times
the baseline) dominate.
The estimate must then be within 25 % of the measured increase, for a linear run, a run spread
over a group of two ranks (ScaLAPACK) and a two-layer run."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import h5py

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# Peak resident memory of a command's processes, in bytes: the largest of its descendants (the
# ranks, under mpirun), as getrusage reports children that were waited for.
PEAK = ("import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n")

LINEAR = """[sweep]
name = {name}
[fixed]
data = spiked
d = {d}
n = {n}
steps = 5
record_every = 1
dynamics = orthogonal
[axes]
k = 4, 8
"""

NETWORK = """[sweep]
name = {name}
[fixed]
data = spiked
model = two-layer
d = {d}
n = {n}
h = {h}
k = 4
steps = 2
record_every = 1
reference_tolerance = 1e-3
probes = 16
[axes]
seed = 1, 2
"""


def mpi(ranks, *argv):
    return [MPIEXEC, "-n", str(ranks), "--oversubscribe", "--allow-run-as-root", BIN, *argv]


class DryRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def dry_run(self, config, *extra, ranks=1):
        done = subprocess.run(mpi(ranks, "sweep", config, "--dry-run", "--format", "json",
                                  *extra), capture_output=True, text=True, env=ENV, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout)

    def peak_rss(self, argv):
        done = subprocess.run([sys.executable, "-c", PEAK, *argv], capture_output=True,
                              text=True, env=ENV, timeout=300)
        code, peak = done.stdout.split()
        self.assertEqual(int(code), 0, done.stderr)
        return int(peak)

    def check_memory(self, template, sizes, tiny, ranks=1, extra=()):
        """The estimate of a sweep's largest run against the measured peak of its ranks, both
        less those of the same sweep at tiny sizes."""
        measured, estimated = {}, {}
        for which, shape in (("tiny", tiny), ("big", sizes)):
            config = self.write(f"{which}.ini", template.format(name=which, **shape))
            store = os.path.join(self.dir, f"{which}.h5")
            plan = self.dry_run(config, "--no-calibration", *extra, ranks=ranks)
            self.assertIsNone(plan["sweep"]["seconds"])
            estimated[which] = plan["sweep"]["memory_per_rank"]
            measured[which] = self.peak_rss(mpi(ranks, "sweep", config, "--store", store, "-q",
                                                *extra))
            with h5py.File(store, "r") as f:  # the runs it reported, with their shapes
                group = f["sweeps"][which]
                self.assertEqual(len(group["run"]), plan["sweep"]["runs"])
                self.assertEqual([r["d"] for r in plan["runs"]], list(group["d"][()]))
        increase = measured["big"] - measured["tiny"]
        estimate = estimated["big"] - estimated["tiny"]
        print(f"\n  {self.id().split('.')[-1]}: peak RSS {measured['big'] / 1e6:.1f} MB, "
              f"baseline {measured['tiny'] / 1e6:.1f} MB, increase {increase / 1e6:.1f} MB; "
              f"estimate {estimate / 1e6:.1f} MB ({100 * (estimate / increase - 1):+.1f} %)",
              file=sys.stderr)
        self.assertGreater(increase, 2 * measured["tiny"] / 3, "the data must dominate")
        self.assertLess(abs(estimate - increase), 0.25 * increase)

    def test_expansion_and_json(self):
        config = self.write("c.ini", LINEAR.format(name="grid", d=64, n=300))
        started = time.monotonic()
        plan = self.dry_run(config)
        seconds = time.monotonic() - started
        print(f"\n  dry run of 2 runs: {seconds:.2f} s", file=sys.stderr)
        sweep = plan["sweep"]
        self.assertEqual((sweep["name"], sweep["runs"], sweep["axes"], sweep["problems"]),
                         ("grid", 2, "k", 1))
        self.assertEqual([(r["d"], r["n"], r["k"], r["steps"], r["records"]) for r in
                          plan["runs"]], [(64, 300, 4, 5, 6), (64, 300, 8, 5, 6)])
        self.assertEqual(sweep["fits"], "yes")
        self.assertGreater(sweep["seconds"], 0)
        self.assertEqual(sweep["calibrated_run"], plan["runs"][1]["run_id"])  # k = 8 costs more
        # The store's size: the room the sweep takes (store/sweep_create.cpp, with a MiB for
        # HDF5's own structures), at least what the sweep writes.
        store = os.path.join(self.dir, "s.h5")
        subprocess.run([BIN, "sweep", config, "--store", store, "-q"], env=ENV, check=True,
                       capture_output=True)
        self.assertLessEqual(os.path.getsize(store), sweep["store_bytes"])
        # Nothing was written by the dry run, and it refuses what the sweep would.
        self.assertEqual(sorted(os.listdir(self.dir)), ["c.ini", "s.h5"])
        again = subprocess.run([BIN, "sweep", config, "--dry-run", "--store", store],
                               capture_output=True, text=True, env=ENV)
        self.assertEqual(again.returncode, 2)
        self.assertIn("already holds sweep 'grid'", again.stderr)
        text = subprocess.run([BIN, "sweep", config, "--dry-run"], capture_output=True,
                              text=True, env=ENV, check=True).stdout
        self.assertIn("sweep grid: 2 runs, axes k, 1 distinct problem", text)
        single = subprocess.run([BIN, "run", "--data", "spiked", "--d", "32", "--n", "100",
                                 "--k", "2", "--steps", "10", "--dry-run", "--format", "json"],
                                capture_output=True, text=True, env=ENV, check=True)
        self.assertEqual(json.loads(single.stdout)["runs"][0]["d"], 32)

    def test_print(self):
        config = self.write("c.ini", LINEAR.format(name="grid", d=64, n=300))
        out = subprocess.run([BIN, "sweep", config, "--print", "name"], capture_output=True,
                             text=True, env=ENV, check=True).stdout
        self.assertEqual(out, "grid\n")
        out = subprocess.run([BIN, "sweep", config, "--print", "runs"], capture_output=True,
                             text=True, env=ENV, check=True).stdout
        self.assertEqual(out, "2\n")
        memory = int(subprocess.run([BIN, "sweep", config, "--print", "memory-per-rank"],
                                    capture_output=True, text=True, env=ENV, check=True).stdout)
        self.assertAlmostEqual(memory, self.dry_run(config)["sweep"]["memory_per_rank"], delta=1)
        bad = self.write("bad.ini", LINEAR.format(name="../x", d=64, n=300))
        done = subprocess.run([BIN, "sweep", bad, "--print", "name"], capture_output=True,
                              text=True, env=ENV)
        self.assertEqual((done.returncode, done.stdout), (2, ""))

    def test_progress_lines_and_live(self):
        # Under mpirun stderr is a pipe: `auto` then writes whole lines every --progress-every
        # seconds; `live` rewrites one line with \r; `none` (or -q) writes nothing.
        config = self.write("c.ini", LINEAR.format(name="grid", d=200, n=400).replace(
            "steps = 5", "steps = 1000").replace("record_every = 1", "record_every = 100"))
        seen = {}
        for mode in ("auto", "live", "none"):
            store = os.path.join(self.dir, f"{mode}.h5")
            done = subprocess.run(mpi(2, "sweep", config, "--store", store, "--progress", mode,
                                      "--progress-every", "0.05"),
                                  capture_output=True, env=ENV, timeout=120)  # \r kept: bytes
            stderr = done.stderr.decode()
            self.assertEqual(done.returncode, 0, stderr)
            seen[mode] = [line for line in stderr.split("\n") if "sweep grid" in line]
        self.assertGreaterEqual(len(seen["auto"]), 1, seen)
        self.assertTrue(all("\r" not in line for line in seen["auto"]))
        self.assertIn("sweep grid 2/2 (100%)", seen["auto"][-1])
        self.assertIn("\rsweep grid", "\n".join(seen["live"]))
        self.assertEqual(seen["none"], [])

    def test_memory_of_a_linear_run(self):
        self.check_memory(LINEAR, {"d": 1000, "n": 2500}, {"d": 16, "n": 200})

    def test_memory_of_a_spread_run(self):
        self.check_memory(LINEAR, {"d": 1000, "n": 2500}, {"d": 16, "n": 200}, ranks=2,
                          extra=("--group-size", "2", "--distribute-above", "100"))

    def test_memory_of_a_two_layer_run(self):
        self.check_memory(NETWORK, {"d": 32, "n": 1500, "h": 1024},
                          {"d": 16, "n": 200, "h": 8})


if __name__ == "__main__":
    unittest.main()
