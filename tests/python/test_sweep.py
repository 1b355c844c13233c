"""`ssldyn sweep` over MPI: the same store whatever the rank count, resume after SIGKILL equal
to an uninterrupted sweep, queries equal to the raw datasets, bad configs rejected untouched."""

import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import h5py
import numpy as np

from raw_store import RawStore

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

SMALL = """
[sweep]
name = grid
[fixed]
data = spiked
d = 16
spikes = 5,3,2
bulk = 0.5
n = 400
sigma_aug = 0.2
weight_decay = 5
steps = 300
record_every = 30
[axes]
loss = noncontrastive, contrastive
dynamics = naive, sphere, orthogonal
k = 2, 3
seed = 1, 2
"""


def sweep_command(ranks, config, store, *extra):
    return [MPIEXEC, "-n", str(ranks), "--oversubscribe", "--allow-run-as-root",
            BIN, "sweep", config, "--store", store, "-q", *extra]


def run_datasets(path):
    """What the runs of each sweep wrote, as arrays keyed by path: the status, every series
    (run, record[, component]), and the weights/ and spectrum/ blocks with their indices."""
    out = {}
    with h5py.File(path, "r") as f:
        for sweep, group in f["sweeps"].items():
            out[f"sweeps/{sweep}/status"] = group["status"][()]
            for name, item in group.items():
                if isinstance(item, h5py.Dataset) and item.ndim >= 2:
                    out[f"sweeps/{sweep}/{name}"] = item[()]
            for block in ("weights", "spectrum"):
                for name, item in group[block].items():
                    out[f"sweeps/{sweep}/{block}/{name}"] = item[()]
    return out


def run_part(datasets, sweep, row):
    """The entries of run_datasets() that are the run's at `row` of sweep: its rows of the
    status and series, its weights/ and spectrum/ indices and its slots of their blocks."""
    prefix = f"sweeps/{sweep}/"
    out = {}
    for name, values in datasets.items():
        if not name.startswith(prefix):
            continue
        group, _, dataset = name[len(prefix):].rpartition("/")
        if group and dataset not in ("block", "slot", "checkpoint_step"):
            stem, _, block = dataset.rpartition("_")  # a block: W0_<b>, W_<b>, eigenvalues_<b>
            if int(block) == datasets[f"{prefix}{group}/block"][row]:
                out[name] = values[datasets[f"{prefix}{group}/slot"][row]]
        else:
            out[name] = values[row]
    return out


def assert_same_runs(test, a, b):
    test.assertEqual(sorted(a), sorted(b))
    for name in a:
        # Bit for bit (NaN where a record was not reached counts as equal).
        test.assertTrue(np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"),
                        name)


def assert_close_runs(test, want, got, relative, square_roots):
    """got equal to want to round-off, computed another way: integers exactly, NaN where want
    has NaN, numbers within `relative` of max(1, |value|), except datasets named ending in one
    of square_roots (√(1 − cos²)-like quantities near 0, accurate to √u ≈ 1.5e-8 absolute);
    and not all of it bit-identical (so the other way really ran)."""
    test.assertEqual(sorted(got), sorted(want))
    for name, expected in want.items():
        have = got[name]
        if expected.dtype.kind != "f":
            test.assertTrue(np.array_equal(have, expected), name)
            continue
        test.assertTrue(np.array_equal(np.isfinite(have), np.isfinite(expected)), name)
        both = np.isfinite(expected)
        error = np.abs(have[both] - expected[both])
        if name.endswith(square_roots):
            test.assertLessEqual(error.max(initial=0), 1.5e-8, name)
        else:
            bound = relative * np.maximum(1.0, np.abs(expected[both]))
            test.assertTrue(np.all(error <= bound), f"{name}: {error.max(initial=0)}")
    test.assertFalse(all(np.array_equal(got[n], want[n], equal_nan=True) for n in want),
                     "nothing was computed another way")


def digest(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class SweepTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.config = self.write("small.ini", SMALL)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def sweep(self, ranks, store, *extra, config=None, check=True):
        return subprocess.run(sweep_command(ranks, config or self.config, store, *extra),
                              env=ENV, capture_output=True, text=True, check=check, timeout=300)

    def test_one_two_and_four_ranks_write_identical_runs(self):
        stores = {}
        for ranks in (1, 2, 4):
            stores[ranks] = os.path.join(self.dir, f"r{ranks}.h5")
            result = self.sweep(ranks, stores[ranks])
            self.assertIn("24 runs, 24 done, 0 failed", result.stdout)
        grouped = os.path.join(self.dir, "g2.h5")  # 4 ranks in two run groups of 2
        self.sweep(4, grouped, "--group-size", "2")
        one = run_datasets(stores[1])
        self.assertEqual(len(one["sweeps/grid/gd_loss"]), 24)
        assert_same_runs(self, one, run_datasets(stores[2]))
        assert_same_runs(self, one, run_datasets(stores[4]))
        assert_same_runs(self, one, run_datasets(grouped))
        with h5py.File(grouped, "r") as f:
            self.assertEqual(f["sweeps/grid"].attrs["group_size"], 2)
            self.assertEqual(f["sweeps/grid"].attrs["mpi_ranks"], 4)
        # More ranks than runs: idle ranks must not disturb anything.
        few = self.write("few.ini", SMALL.replace("seed = 1, 2", "seed = 1").replace(
            "dynamics = naive, sphere, orthogonal", "dynamics = orthogonal").replace(
            "loss = noncontrastive, contrastive", "loss = contrastive"))
        self.sweep(4, os.path.join(self.dir, "few.h5"), config=few)
        with h5py.File(os.path.join(self.dir, "few.h5"), "r") as f:
            self.assertEqual(list(f["sweeps/grid/status"][()]), [2, 2])

    def test_groups_spreading_every_matrix_equal_one_rank(self):
        # Groups of 2 and 4 ranks with every matrix of a run spread over the group (C, its
        # eigenvectors, the retraction; blocks of 5, dividing no dimension) against one rank
        # with everything replicated. The same trajectories to round-off (tests/mpi/
        # test_distributed_run.cpp states the bounds): 1e-11 relative to max(1, |value|), the
        # sine of the largest principal angle (√(1 − cos²) near 0) to √u ≈ 1.5e-8 absolute.
        alone = os.path.join(self.dir, "alone.h5")
        self.sweep(1, alone)
        reference = run_datasets(alone)
        for group, grid in ((2, "auto"), (2, "1x2"), (4, "auto")):
            store = os.path.join(self.dir, f"spread{group}{grid}.h5")
            result = self.sweep(group, store, "--group-size", str(group), "--grid", grid,
                                "--distribute-above", "0", "--block-size", "5")
            self.assertIn("24 runs, 24 done, 0 failed", result.stdout)
            assert_close_runs(self, reference, run_datasets(store), 1e-11, ("topk_sin_angle",))

    def test_summary_shows_collapse_and_its_absence(self):
        out = self.sweep(2, os.path.join(self.dir, "s.h5")).stdout
        lines = {tuple(l.split()[:3]): l for l in out.splitlines() if l.split()[:1] in
                 (["naive"], ["sphere"], ["orthogonal"])}
        self.assertIn("collapsed", lines[("sphere", "contrastive", "3")])
        self.assertIn("collapsed", lines[("naive", "noncontrastive", "2")])
        self.assertIn("no collapse", lines[("orthogonal", "contrastive", "3")])

    def test_killed_then_resumed_equals_uninterrupted(self):
        # Longer runs, so that kills land before, during and after the runs start.
        config = self.write("long.ini", SMALL.replace("steps = 300", "steps = 20000").replace(
            "record_every = 30", "record_every = 1000").replace("d = 16", "d = 160").replace(
            "weight_decay = 5", "weight_decay = 4"))
        reference = os.path.join(self.dir, "reference.h5")
        # Its naive runs diverge (λ₁ of C exceeds the weight decay): failed
        # runs must survive kills and resumes too, so the sweep exits with 1.
        start = time.time()
        self.assertEqual(self.sweep(2, reference, config=config, check=False).returncode, 1)
        duration = time.time() - start
        expected = run_datasets(reference)
        interrupted = stale_locks = 0
        for fraction in (0.2, 0.5, 0.8):
            store = os.path.join(self.dir, f"killed{fraction}.h5")
            process = subprocess.Popen(sweep_command(2, config, store), env=ENV,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
            time.sleep(duration * fraction)
            # SIGKILL to the whole job, as a scheduler does: mpirun and its ranks (which Open MPI
            # puts in process groups of their own, inside mpirun's session).
            subprocess.run(["pkill", "-KILL", "-s", str(process.pid)])
            process.wait()
            time.sleep(0.2)
            # No rank may outlive the kill and go on writing into the store.
            self.assertNotEqual(subprocess.run(["pgrep", "-f", store]).returncode, 0)
            if not os.path.exists(store):
                # Killed while the store was being prepared: nothing was recorded; start anew.
                self.sweep(2, store, "--break-lock", config=config, check=False)
            else:
                # Whatever the moment, the store opens, and done runs stay done.
                with h5py.File(store, "r") as f:
                    before = f["sweeps/grid/status"][()]
                self.assertEqual(subprocess.run(["h5dump", "-H", store],
                                                capture_output=True).returncode, 0)
                interrupted += int(np.sum(before == 2) < len(before))
                # The killed job's lock stays behind, its process gone from this host: the
                # resume clears it, and says so.
                stale = os.path.exists(store + ".lock")
                resumed = self.sweep(2, store, "--resume", config=config, check=False)
                self.assertIn("24 runs", resumed.stdout, resumed.stderr)
                if stale:
                    self.assertIn(f"{store}: cleared the stale lock of process", resumed.stderr)
                    self.assertIn("its process is gone from this host", resumed.stderr)
                    stale_locks += 1
                with h5py.File(store, "r") as f:
                    after = f["sweeps/grid/status"][()]
                self.assertTrue(np.all(after[before == 2] == 2))
            assert_same_runs(self, expected, run_datasets(store))
            self.assertFalse([n for n in os.listdir(self.dir) if ".partial-" in n])
        self.assertGreater(interrupted, 0, "no kill landed while runs were pending")
        self.assertGreater(stale_locks, 0, "no kill left a lock behind")

    def test_query_equals_the_raw_datasets(self):
        store = os.path.join(self.dir, "q.h5")
        self.sweep(2, store)
        query = [BIN, "query", store, "--where", "k>=3 and dynamics==orthogonal",
                 "--metric", "effective_rank,theory_distance,theory_loss", "--format", "json"]
        rows = json.loads(subprocess.run(query, capture_output=True, text=True, check=True).stdout)
        self.assertEqual(len(rows), 4)  # 2 losses x 2 seeds
        with RawStore(store) as raw:
            grid = raw.sweep("grid")
            for row in rows:
                run = grid.run(grid.row(row["run_id"]))
                self.assertEqual(row["dynamics"], "orthogonal")
                self.assertEqual(row["k"], 3)  # a number: JSON carries typed values
                self.assertEqual(row["final_effective_rank"], run["gd_effective_rank"][-1])
                self.assertEqual(row["final_theory_distance"], run["theory_distance"][-1])
                self.assertEqual(row["theory_final_loss"], run["theory_loss"][-1])
            # The record nearest to t, and every record.
            run_id = rows[0]["run_id"]
            run = grid.run(grid.row(run_id))
            t = run["t"]
            target = 0.5 * (t[3] + t[4]) - 1e-9  # nearer to record 3
            csv = subprocess.run([BIN, "query", store, "--where", f"run_id=={run_id}", "--at",
                                  f"t={target!r}", "--metric", "loss", "--format", "csv"],
                                 capture_output=True, text=True, check=True).stdout.splitlines()
            header, values = csv[0].split(","), csv[1].split(",")
            self.assertEqual(len(csv), 2)
            self.assertEqual(float(values[header.index("t")]), t[3])
            self.assertEqual(float(values[header.index("trajectory/loss")]),
                             run["gd_loss"][3])
            every = subprocess.run([BIN, "query", store, "--where", f"run_id=={run_id}", "--at",
                                    "all", "--format", "csv"], capture_output=True, text=True,
                                   check=True).stdout.splitlines()
            self.assertEqual(len(every), 1 + len(t))
            # A linear run records no network/ values: NaN (empty in CSV) along the trajectory,
            # as in its index column.
            for at in ("all", "final"):
                rows = subprocess.run([BIN, "query", store, "--where", f"run_id=={run_id}",
                                       "--at", at, "--metric", "loss,kernel_change", "--format",
                                       "json"], capture_output=True, text=True, check=True).stdout
                rows = json.loads(rows)
                self.assertEqual(len(rows), len(t) if at == "all" else 1)
                for row in rows:
                    self.assertIsNone(row["network/kernel_change" if at == "all"
                                          else "final_kernel_change"])
                    self.assertIsNotNone(row["trajectory/loss" if at == "all" else "final_loss"])
        listing = subprocess.run([BIN, "ls", store], capture_output=True, text=True,
                                 check=True).stdout
        self.assertRegex(listing, r"grid\s+24\s+24\s+0\s+0\s+0")

    def test_runs_on_other_labels_do_not_share_a_problem(self):
        """A supervised sweep over labels_path on one rank (whose runs share one Problem cache):
        the run on labels B ends exactly as B swept alone, and not as the run on labels A (the
        problem key once left labels_path out, and B's run trained on A's labels)."""
        rng = np.random.default_rng(5)

        def idx(name, dims, values):
            path = os.path.join(self.dir, name)
            magic = bytes([0, 0, 8, len(dims)])
            with open(path, "wb") as f:
                f.write(magic + b"".join(int(v).to_bytes(4, "big") for v in dims)
                        + bytes(values.astype(np.uint8)))
            return path

        images = idx("images.idx", (40, 4, 4), rng.integers(0, 256, 40 * 16))
        a = idx("a.idx", (40,), rng.integers(0, 3, 40))
        b = idx("b.idx", (40,), rng.integers(0, 3, 40))
        base = f"""
[sweep]
name = labels
[fixed]
model = supervised
data = idx
idx_path = {images}
n = 40
k = 3
h = 8
probes = 4
steps = 20
record_every = 10
"""

        def final_losses(name, text):
            store = os.path.join(self.dir, name + ".h5")
            self.sweep(1, store, config=self.write(name + ".ini", text))
            with h5py.File(store, "r") as f:
                sweep = f["sweeps/labels"]
                paths = [p.decode() for p in sweep["labels_path"][()]]
                self.assertTrue(np.all(sweep["status"][()] == 2))
                return dict(zip(paths, sweep["final_loss"][()]))

        both = final_losses("both", base + f"[axes]\nlabels_path = {a}, {b}\n")
        alone = final_losses("alone", base + f"labels_path = {b}\n")
        self.assertEqual(both[b], alone[b])
        self.assertNotEqual(both[b], both[a])

    def test_bad_configs_are_rejected_before_any_write(self):
        store = os.path.join(self.dir, "store.h5")
        self.sweep(1, store)
        before = digest(self.dir)
        cases = [
            (SMALL.replace("k = 2, 3", "k = 2, x"), "k: 'x' is not an integer"),
            (SMALL.replace("k = 2, 3", "k = 2, 17"), "k: 17 exceeds d = 16"),
            (SMALL.replace("k = 2, 3", "kk = 2, 3"), "[axes] kk: unknown setting"),
            (SMALL.replace("dynamics = naive", "dynamics = navie"), "unknown value 'navie'"),
            (SMALL.replace("[fixed]", "[fixd]"), "unknown section [fixd]"),
            (SMALL + "[zip]\nsigma_aug = 0.1, 0.2\nkeep_prob = 1\n", "1 values"),
            (SMALL.replace("name = grid", ""), "name is missing"),
            (SMALL.replace("seed = 1, 2", "seed = " + ",".join(map(str, range(1, 65537))))
             .replace("k = 2, 3", "k = " + ",".join(["2"] * 65536)), "more than 10^7 runs"),
        ]
        for number, (text, message) in enumerate(cases):
            config = self.write("bad.ini", text)
            before = digest(self.dir)
            result = self.sweep(2 if number < 2 else 1, store, config=config, check=False)
            self.assertEqual(result.returncode, 2, text)
            self.assertIn(message, result.stderr)
            # One line of ours (mpirun adds its own report of the exit code).
            ours = [l for l in result.stderr.splitlines() if l.startswith("ssldyn:")]
            self.assertEqual(len(ours), 1, result.stderr)
            self.assertEqual(digest(self.dir), before)
        # The same sweep again without --resume, and a resume with another config.
        for extra, config, message in [
                ((), self.config, "already holds sweep 'grid'"),
                (("--resume",), self.write("other.ini", SMALL.replace("seed = 1, 2", "seed = 3")),
                 "started with another config")]:
            before = digest(self.dir)
            result = self.sweep(2, store, *extra, config=config, check=False)
            self.assertEqual(result.returncode, 2)
            self.assertIn(message, result.stderr)
            self.assertEqual(digest(self.dir), before)
        result = self.sweep(2, store, "--group-size", "3", check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--group-size", result.stderr)

    def test_a_second_job_on_a_live_store_is_refused(self):
        # Long runs, all finishing: weight decay well above λ₁ ≈ 5 (at d = 160 from 400 samples
        # the top sample eigenvalue scatters around the spike, and a decay below it diverges).
        config = self.write("long.ini", SMALL.replace("steps = 300", "steps = 20000").replace(
            "d = 16", "d = 160").replace("weight_decay = 5", "weight_decay = 7"))
        store = os.path.join(self.dir, "busy.h5")
        first = subprocess.Popen(sweep_command(2, config, store), env=ENV, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.time() + 60
        while not os.path.exists(store) and time.time() < deadline:
            time.sleep(0.05)
        other = self.write("other.ini", SMALL.replace("name = grid", "name = other"))
        second = self.sweep(1, store, config=other, check=False)
        self.assertEqual(second.returncode, 2)
        self.assertIn("in use by process", second.stderr)
        run = subprocess.run([BIN, "run", "--data", "spiked", "--d", "8", "--k", "2", "--n", "50",
                              "--steps", "2", "--store", store, "--overwrite"],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 2)
        self.assertIn("in use by process", run.stderr)
        out, _ = first.communicate(timeout=300)
        self.assertIn("24 runs, 24 done", out)
        self.assertFalse(os.path.exists(store + ".lock"))
        listing = subprocess.run([BIN, "ls", store], capture_output=True, text=True,
                                 check=True).stdout
        self.assertRegex(listing, r"grid\s+24\s+24\s+0\s+0\s+0")

    def test_two_sweeps_share_a_store(self):
        store = os.path.join(self.dir, "shared.h5")
        self.sweep(2, store)
        other = self.write("other.ini", SMALL.replace("name = grid", "name = second").replace(
            "seed = 1, 2", "seed = 7"))
        self.sweep(2, store, config=other)
        listing = subprocess.run([BIN, "ls", store], capture_output=True, text=True,
                                 check=True).stdout
        self.assertIn("grid", listing)
        self.assertIn("second", listing)


if __name__ == "__main__":
    unittest.main()
