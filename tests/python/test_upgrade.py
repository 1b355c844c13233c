"""`ssldyn upgrade`: a schema-1 store (tests/data/v1_store.jsonl, materialised by v1_fixture)
converted to schema 2 with every number bit for bit, equal (to round-off: the fixture was written
on another machine) to the store the same sweeps write now; bad input refused with nothing written; every other command refuses a schema-1 store."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np

import v1_fixture

SOURCE = os.environ.get("SSLDYN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# Wall times, hosts and the jobs that ran them (their times and events, the events/ history)
# differ between runs of the same sweep; provenance between programs.
WALL = ("seconds", "seconds_per_step", "host", "started", "ended", "event")
HISTORY = "events/"
# What schema 1 never recorded (the modes of THEORY 6.5 and their rise times): NaN in an upgraded
# store, left out of the comparison with one written now and checked apart.
NOT_IN_SCHEMA_1 = ("gd_modes", "theory_modes", "rise_time", "rise_time_predicted")
PROVENANCE = ("program_version", "git_commit", "git_dirty", "mpi_library", "hdf5_library",
              "mpi_ranks", "group_size", "distribute_above", "block_size", "grid",
              "blas_threads", "upgraded_from")
STATUS = {"pending": 0, "running": 1, "done": 2, "failed": 3}


def texts(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def digest(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def attribute_values(obj, leave_out=()):
    """Attributes as comparable values, object references (dimension scales) left out: they
    are addresses in their file."""
    out = {}
    for name in obj.attrs:
        if name in leave_out or name in ("DIMENSION_LIST", "REFERENCE_LIST"):
            continue
        value = obj.attrs[name]
        out[name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def sweep_contents(path, sweep):
    """Every dataset of a schema-2 sweep (dtype, shape, bytes, attributes) and the sweep's
    attributes, wall times, provenance and what schema 1 did not hold left out."""
    out = {}
    with h5py.File(path, "r") as f:
        group = f["sweeps"][sweep]
        out["/"] = attribute_values(group, PROVENANCE)

        def visit(name, obj):
            if name.startswith(HISTORY):
                return
            if isinstance(obj, h5py.Dataset) and name not in WALL + NOT_IN_SCHEMA_1:
                out[name] = (str(obj.dtype), obj.shape, obj[()].tobytes(), attribute_values(obj))
            elif isinstance(obj, h5py.Group):
                out[name + "/"] = attribute_values(obj)
        group.visititems(visit)
    return out


def poll_done(store, sweep, job, deadline=60):
    """Waits until a run of the sweep is done in the store being written (or the job ended)."""
    env_lock = os.environ.get("HDF5_USE_FILE_LOCKING")
    os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"  # the writer holds the file
    try:
        end = time.time() + deadline
        while time.time() < end and job.poll() is None:
            if os.path.exists(store):
                try:
                    with h5py.File(store, "r") as f:
                        done = np.any(f["sweeps"][sweep]["status"][()] >= STATUS["done"])
                    if done:
                        return
                except (OSError, KeyError):
                    pass
            time.sleep(0.005)
    finally:
        if env_lock is None:
            del os.environ["HDF5_USE_FILE_LOCKING"]
        else:
            os.environ["HDF5_USE_FILE_LOCKING"] = env_lock


# The fixture's numbers were computed on another machine: OpenBLAS picks its kernels by CPU and
# the vector loops run at the machine's width, so the same sweep written here agrees with them
# to round-off grown along each trajectory, not bit for bit. Round-off is relative to the size
# of what a run computes, not to each number (a collapsed mode's singular value carries the
# error of the largest one; a diverging run's the error of its largest entries): measured on
# an AMD EPYC against the fixture, 2e-14 of the run's largest magnitude at most. Stores written
# on this machine are compared bit for bit.
ELSEWHERE = 1e-12


def assert_same_sweep(test, want, got, what, elsewhere=False):
    """Two sweep_contents equal, dataset by dataset: bit for bit, or with `elsewhere` (want
    written on another machine) floating-point data within ELSEWHERE * (s + 1), s the largest
    finite magnitude of the run (the dataset's row) in want."""
    test.assertEqual(sorted(got), sorted(want), what)
    for name in want:
        if elsewhere and not name.endswith("/") and np.dtype(want[name][0]).kind == "f":
            kind = lambda c: (c[0], c[1], c[3])  # dtype, shape, attributes
            test.assertEqual(kind(got[name]), kind(want[name]), f"{what}: {name}")
            a, b = (np.frombuffer(c[2], dtype=c[0]).reshape(c[1]) for c in (want[name], got[name]))
            finite = np.isfinite(a)
            rows = np.abs(np.where(finite, a, 0)).reshape(len(a), -1).max(axis=1) if a.ndim else a
            scale = np.broadcast_to(np.reshape(rows, (-1,) + (1,) * (a.ndim - 1)), a.shape)
            test.assertTrue(np.array_equal(a[~finite], b[~finite], equal_nan=True)
                            and np.all(np.abs(a - b)[finite] <= ELSEWHERE * (scale[finite] + 1)),
                            f"{what}: {name}: {a} != {b}")
        else:
            test.assertEqual(got[name], want[name], f"{what}: {name}")


class UpgradeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.fixture = v1_fixture.load()
        v1_fixture.write_inputs(cls.dir, cls.fixture)
        cls.v1 = os.path.join(cls.dir, "v1.h5")
        v1_fixture.materialise(cls.v1, cls.fixture)
        cls.v2 = os.path.join(cls.dir, "v2.h5")
        # From a folder without the sweeps' data files: the store holds all an upgrade needs.
        elsewhere = os.path.join(cls.dir, "elsewhere")
        os.mkdir(elsewhere)
        start = time.time()
        cls.upgrade_output = cls.ssldyn("upgrade", cls.v1, "--store", cls.v2, cwd=elsewhere)
        cls.upgrade_seconds = time.time() - start
        print(f"\nupgrade of the fixture: {cls.upgrade_seconds:.2f} s", flush=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def ssldyn(cls, *args, check=True, cwd=None):
        return subprocess.run([BIN, *args], cwd=cwd or cls.dir, env=ENV, capture_output=True,
                              text=True, check=check, timeout=300)

    def sweep(self, ranks, config, store, *extra, check=True, **popen):
        command = [MPIEXEC, "-n", str(ranks), "--oversubscribe", "--allow-run-as-root", BIN,
                   "sweep", config, "--store", store, "-q", *extra]
        if popen:
            return subprocess.Popen(command, cwd=self.dir, env=ENV, **popen)
        result = subprocess.run(command, cwd=self.dir, env=ENV, capture_output=True, text=True,
                                timeout=300)
        if check:
            self.assertIn(result.returncode, (0, 1), result.stderr)  # 1: a run failed
        return result

    def v1_sweeps(self):
        """The fixture's sweeps: name -> {path below the sweep: array, "/": attributes}."""
        out = {}
        with h5py.File(self.v1, "r") as f:
            for entry in self.fixture:
                name = entry.get("dataset") or entry.get("group") or ""
                if not name.startswith("/sweeps/"):
                    continue
                sweep, _, rest = name[len("/sweeps/"):].partition("/")
                if "dataset" in entry:
                    out.setdefault(sweep, {})[rest] = f[name][()]
                elif not rest:
                    out.setdefault(sweep, {})["/"] = entry["attrs"]
        return out

    def test_every_number_of_the_schema_1_store_is_in_the_upgraded_one(self):
        self.assertIn(self.v2, self.upgrade_output.stdout)
        with h5py.File(self.v2, "r") as f:
            self.assertEqual(f.attrs["schema_version"], 2)
            self.assertEqual(sorted(f["sweeps"]), ["mixed", "stopped"])
        checked = {"series": 0, "W": 0, "failed": 0, "running": 0}
        for sweep, v1 in self.v1_sweeps().items():
            with h5py.File(self.v2, "r") as f:
                s = f["sweeps"][sweep]
                # Attributes: all of schema 1's, and where the sweep came from.
                attrs = attribute_values(s)
                self.assertEqual(attrs.pop("upgraded_from"), self.v1)
                self.assertEqual(attrs, v1["/"])
                ids = texts(v1["index/run_id"])
                self.assertEqual(texts(s["run"][()]), ids)
                self.assertTrue(same_bits(s["status"][()].astype("<i8"), v1["status"]))
                # Settings: the index's text, typed.
                for key in (k[len("index/config/"):] for k in v1 if
                            k.startswith("index/config/")):
                    stored, column = s[key][()], texts(v1["index/config/" + key])
                    if stored.dtype == bool:
                        want = np.array([{"true": True, "false": False}[v] for v in column])
                    elif stored.dtype.kind == "i":
                        want = np.array([int(v) for v in column], "<i8")
                    elif stored.dtype.kind == "f":
                        want = np.array([float(v) for v in column], "<f8")
                    else:
                        stored, want = texts(stored), column
                    self.assertTrue(np.array_equal(stored, want), (sweep, key, stored, want))
                # Results: the same columns, the same bits.
                results = [k for k in v1 if k.startswith("index/result/")]
                self.assertEqual(len(results), 55)  # every column schema 1 had
                for key in results:
                    self.assertTrue(same_bits(s[key[len("index/result/"):]][()], v1[key]), key)
                records = s["record"].shape[0]
                components = s["component"].shape[0]
                for row, run in enumerate(ids):
                    here = {k[len(f"runs/{run}/"):]: v for k, v in v1.items()
                            if k.startswith(f"runs/{run}/")}
                    n, k = here["trajectory/singular_values"].shape
                    self.assertTrue(np.array_equal(here["theory/step"], here["trajectory/step"]))
                    self.assertTrue(same_bits(s["step"][row, :n], here["trajectory/step"]))
                    self.assertTrue(np.all(s["step"][row, n:] == -1))
                    series = [("t", "trajectory/t"), ("theory_distance",
                                                      "trajectory/theory_distance")]
                    for side, prefix in (("trajectory", "gd_"), ("theory", "theory_")):
                        for metric in ("loss", "orthogonality_error", "s2_s1", "effective_rank",
                                       "topk_sin_angle"):
                            series.append((prefix + metric, f"{side}/{metric}"))
                        matrix = s[prefix + "singular_values"][row]
                        self.assertTrue(same_bits(matrix[:n, :k], here[f"{side}/singular_values"]))
                        self.assertTrue(np.all(np.isnan(matrix[n:])) and
                                        np.all(np.isnan(matrix[:, k:])))
                    series += [("network_" + m[len("network/"):], m) for m in here
                               if m.startswith("network/")]
                    for name, key in series:
                        self.assertTrue(same_bits(s[name][row, :n], here[key]), (run, name))
                        self.assertTrue(np.all(np.isnan(s[name][row, n:])), (run, name))
                        checked["series"] += 1
                    if not any(m.startswith("network/") for m in here):  # a linear run
                        for name in (n for n in s if n.startswith("network_")):
                            self.assertTrue(np.all(np.isnan(s[name][row])), (run, name))
                    # Weights: W0, the saved W and its step, in the run's slot of its block.
                    w = s["weights"]
                    block, slot = w["block"][row], w["slot"][row]
                    self.assertTrue(same_bits(w[f"W0_{block}"][slot], here["init/W0"]), run)
                    step = here["checkpoint/step"][0]
                    self.assertEqual(w["checkpoint_step"][row], step)
                    if step >= 0 or v1["status"][row] == STATUS["failed"]:
                        # A saved or final state; NaN for a failed run (as schema 1 held it).
                        self.assertTrue(same_bits(w[f"W_{block}"][slot], here["checkpoint/W"]))
                        checked["W"] += 1
                    checked["failed"] += v1["status"][row] == STATUS["failed"]
                    checked["running"] += step >= 0 and v1["status"][row] != STATUS["done"]
                    # Spectrum: the run's problem's slot (runs not started have none yet).
                    spectrum = s["spectrum"]
                    values = spectrum[f"eigenvalues_{spectrum['block'][row]}"][
                        spectrum["slot"][row]]
                    if not np.all(np.isnan(here["spectrum/eigenvalues"])):
                        self.assertTrue(same_bits(values, here["spectrum/eigenvalues"]), run)
                    self.assertLessEqual(n, records)
                    self.assertLessEqual(k, components)
        # The fixture holds what the checks above are for.
        # t, theory_distance, 5 metrics on each side; 10 network series of the 4 network runs
        self.assertEqual(checked["series"], 16 * 12 + 4 * 10)
        self.assertEqual(checked["failed"], 1)
        self.assertEqual(checked["running"], 2)
        self.assertGreater(checked["W"], 12)

    def test_the_same_sweeps_written_now_equal_the_upgraded_store(self):
        """The mixed sweep run now on 1, 2 and 4 ranks, and killed and resumed, writes the
        upgraded store's sweep (to round-off, wall times, hosts and provenance aside; bit for
        bit between the runs here); the stopped sweep resumed from the upgraded store's saved
        states equals it run whole."""
        upgraded = sweep_contents(self.v2, "mixed")
        with h5py.File(self.v2, "r") as f:
            for name in NOT_IN_SCHEMA_1:
                self.assertTrue(np.all(np.isnan(f["sweeps/mixed"][name][()])), name)
        now = {}
        for ranks in (1, 2, 4):
            store = os.path.join(self.dir, f"now{ranks}.h5")
            self.sweep(ranks, "mixed.ini", store)
            now[ranks] = sweep_contents(store, "mixed")
            assert_same_sweep(self, now[1], now[ranks], f"{ranks} ranks")
        assert_same_sweep(self, upgraded, now[1], "written now", elsewhere=True)

        whole = os.path.join(self.dir, "whole.h5")
        self.sweep(2, "stopped.ini", whole)
        resumed = os.path.join(self.dir, "resumed.h5")
        shutil.copy(self.v2, resumed)
        self.sweep(2, "stopped.ini", resumed, "--resume")
        with h5py.File(resumed, "r") as f:
            self.assertTrue(np.all(f["sweeps/stopped/status"][()] == STATUS["done"]))
        # Its saved states were computed elsewhere: the runs continued from them agree to
        # round-off.
        assert_same_sweep(self, sweep_contents(whole, "stopped"),
                          sweep_contents(resumed, "stopped"), "resumed from the upgrade",
                          elsewhere=True)
        assert_same_sweep(self, upgraded, sweep_contents(resumed, "mixed"), "beside it")

        # Killed (the whole job, as a scheduler does) once some of its runs are done, and
        # resumed.
        for config, sweep, expected in (("mixed.ini", "mixed", now[1]),
                                        ("stopped.ini", "stopped",
                                         sweep_contents(whole, "stopped"))):
            store = os.path.join(self.dir, f"killed-{sweep}.h5")
            # The stopped sweep's runs take 0.3 s: killed among them. A poller starved on a
            # loaded machine may see the first run done only when all are: that kill came too
            # late to test anything, and is tried again (the mixed runs take ms: any kill do).
            for _ in range(3):
                if os.path.exists(store):
                    os.remove(store)
                job = self.sweep(2, config, store, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
                poll_done(store, sweep, job)
                subprocess.run(["pkill", "-KILL", "-s", str(job.pid)])
                job.wait()
                time.sleep(0.2)
                with h5py.File(store, "r") as f:
                    status = f["sweeps"][sweep]["status"][()]
                if sweep == "mixed" or np.sum(status == STATUS["done"]) < len(status):
                    break
            if sweep == "stopped":
                self.assertTrue(0 < np.sum(status == STATUS["done"]) < len(status), status)
            self.sweep(2, config, store, "--resume", "--break-lock")
            assert_same_sweep(self, expected, sweep_contents(store, sweep), f"killed {sweep}")

    def test_bad_input_is_refused_with_nothing_written(self):
        folder = os.path.join(self.dir, "bad")
        os.makedirs(folder, exist_ok=True)
        text = os.path.join(folder, "notes.h5")
        with open(text, "w") as f:
            f.write("not a store\n")
        truncated = os.path.join(folder, "truncated.h5")
        with open(self.v1, "rb") as f:
            contents = f.read()
        with open(truncated, "wb") as f:
            f.write(contents[:len(contents) // 2])
        schema2 = os.path.join(folder, "schema2.h5")
        shutil.copy(self.v2, schema2)
        existing = os.path.join(folder, "existing.h5")
        shutil.copy(self.v2, existing)
        plain = os.path.join(folder, "plain.h5")
        with h5py.File(plain, "w") as f:
            f["x"] = 1.0
        damaged = os.path.join(folder, "damaged.h5")  # a run's series missing
        shutil.copy(self.v1, damaged)
        with h5py.File(damaged, "a") as f:
            del f["sweeps/mixed/runs"][texts(f["sweeps/mixed/index/run_id"][:1])[0]][
                "theory/loss"]
        cases = [
            (os.path.join(folder, "missing.h5"), "new.h5", "no such store"),
            (text, "new.h5", "not an HDF5 file"),
            (truncated, "new.h5", truncated),
            (plain, "new.h5", "not an ssldyn store"),
            (damaged, "new.h5", "damaged or not of schema 1"),
            (schema2, "new.h5", "schema_version 2 already"),
            (folder, "new.h5", "folder"),
            (self.v1, "existing.h5", "--overwrite"),
        ]
        for old, new, message in cases:
            before = digest(folder)
            result = self.ssldyn("upgrade", old, "--store", os.path.join(folder, new),
                                 check=False)
            self.assertEqual(result.returncode, 2, (old, result.stderr))
            self.assertIn(message, result.stderr)
            self.assertTrue(result.stderr.startswith("ssldyn: error: "), result.stderr)
            self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
            named = existing if new == "existing.h5" else old
            self.assertIn(named, result.stderr)
            self.assertEqual(digest(folder), before, old)
        # --overwrite replaces an existing store.
        self.ssldyn("upgrade", self.v1, "--store", existing, "--overwrite")
        assert_same_sweep(self, sweep_contents(self.v2, "mixed"),
                          sweep_contents(existing, "mixed"), "overwritten")

    def test_other_commands_refuse_a_schema_1_store_naming_upgrade(self):
        shard = os.path.join(self.dir, "shard.h5")
        shutil.copy(self.v1, shard)
        commands = [
            ["ls", self.v1],
            ["ls", self.v1, "--sweeps"],
            ["query", self.v1],
            ["merge", "--store", os.path.join(self.dir, "merged.h5"), shard],
            ["sweep", "stopped.ini", "--store", self.v1, "--resume"],
            ["sweep", "other.ini", "--store", self.v1],
        ]
        with open(os.path.join(self.dir, "other.ini"), "w") as f:
            f.write("[sweep]\nname = other\n[fixed]\ndata = spiked\nd = 8\nk = 2\nn = 20\n"
                    "steps = 2\n")
        for command in commands:
            before = digest(self.dir)
            result = self.ssldyn(*command, check=False)
            self.assertEqual(result.returncode, 2, (command, result.stderr))
            self.assertIn("ssldyn upgrade", result.stderr, command)
            self.assertIn(self.v1 if command[0] != "merge" else shard, result.stderr, command)
            self.assertEqual(digest(self.dir), before, command)

    def test_the_report_refuses_a_schema_1_store_naming_upgrade(self):
        sys.path.insert(0, os.path.join(SOURCE, "analysis"))
        from ssldyn import store
        if store.SCHEMA_VERSION == 1:
            self.skipTest("ssldyn.store reads schema 1 on this tree: the report reads it")
        before = digest(self.dir)
        result = self.ssldyn("report", self.v1, "--out", os.path.join(self.dir, "report"),
                             check=False)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("ssldyn upgrade", result.stderr)
        self.assertIn(self.v1, result.stderr)
        self.assertEqual(digest(self.dir), before)


class FixtureTest(unittest.TestCase):
    def test_the_fixture_materialises_to_the_store_it_was_dumped_from(self):
        """Materialised and dumped again, the store gives back every line of the fixture: the
        encoding loses nothing (NaN signs, fill values, string kinds and order included)."""
        lines = v1_fixture.load()
        with tempfile.TemporaryDirectory() as folder:
            store = os.path.join(folder, "v1.h5")
            v1_fixture.materialise(store, lines)
            inputs = v1_fixture.write_inputs(folder, lines)
            again = v1_fixture.dump(store, [os.path.join(folder, name) for name in inputs])
        self.assertEqual(len(again), len(lines))
        for want, got in zip(lines, again):
            self.assertEqual(got, want)
        self.assertIn("-nan", {v for entry in lines for v in entry.get("data", [])
                               if isinstance(v, str)})


if __name__ == "__main__":
    unittest.main()
