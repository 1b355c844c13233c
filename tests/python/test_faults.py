"""Faults a cluster brings: stop signals (SLURM's warning, preemption) that save the running runs
and exit 3, SIGKILL at random moments, and job arrays whose shard stores `ssldyn merge` joins.
Every resumed or merged store must equal the uninterrupted single-job store.

SSLDYN_KILL_TRIALS sets the number of SIGKILL trials (default 8; the full check is 50)."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np
import pandas as pd

from test_sweep import (BIN, ENV, SMALL, assert_same_runs, digest, run_datasets, run_part,
                        sweep_command)

sys.path.insert(0, os.path.join(os.environ.get(
    "SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")), "analysis"))
from ssldyn.store import Store  # noqa: E402

# Runs of about 0.2 s, long enough for signals and kills to land inside them; the naive runs
# diverge and fail (failed runs must survive every fault too).
LONG = SMALL.replace("steps = 300", "steps = 25000").replace(
    "record_every = 30", "record_every = 1000").replace("d = 16", "d = 160").replace(
    "weight_decay = 5", "weight_decay = 4")

# Result columns that hold wall times, the host or the job (started, ended, event): they differ
# between any two jobs.
TIMING = {"seconds", "seconds_per_step", "host", "started", "ended", "event"}


def index_columns(path, sweep="grid"):
    """Every dataset of the sweep along run alone (run ids, settings, status, results) but
    TIMING, and the record and component numbers."""
    with h5py.File(path, "r") as f:
        group = f[f"sweeps/{sweep}"]
        return {name: item[()] for name, item in group.items()
                if isinstance(item, h5py.Dataset) and item.ndim == 1 and name not in TIMING}


def statuses(path):
    with h5py.File(path, "r") as f:
        return f["sweeps/grid/status"][()]


def events_of(path, sweep="grid"):
    """The sweep's events/ table as h5py reads it: {column: array}, text decoded."""
    with h5py.File(path, "r") as f:
        group = f[f"sweeps/{sweep}/events"]
        return {name: (item.asstr()[()] if h5py.check_string_dtype(item.dtype) else item[()])
                for name, item in group.items()}


def per_run(path, *names, sweep="grid"):
    with h5py.File(path, "r") as f:
        return [f[f"sweeps/{sweep}/{name}"][()] for name in names]


# A sweep of 30 000 short runs, whose store takes a second or two to build: a stop signal lands
# while it is built.
MANY = SMALL.replace("seed = 1, 2", "seed = " + ", ".join(str(s) for s in range(1, 2501)))


def saved_steps(path):
    """Steps of each run's saved weights (weights/checkpoint_step), in row order."""
    with h5py.File(path, "r") as f:
        return f["sweeps/grid/weights/checkpoint_step"][()]


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        cls.config = os.path.join(cls.dir, "long.ini")
        with open(cls.config, "w") as f:
            f.write(LONG)
        cls.reference = os.path.join(cls.dir, "reference.h5")
        start = time.time()
        code = subprocess.run(sweep_command(2, cls.config, cls.reference), env=ENV,
                              capture_output=True).returncode
        cls.duration = time.time() - start
        assert code == 1, "the reference sweep must have its failed (diverged) runs"
        cls.expected = run_datasets(cls.reference)
        cls.expected_index = index_columns(cls.reference)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def sweep(self, ranks, store, *extra, config=None):
        return subprocess.run(sweep_command(ranks, config or self.config, store, *extra),
                              env=ENV, capture_output=True, text=True, timeout=300)

    def assert_equals_reference(self, store, reference=None):
        """The store holds the runs of the uninterrupted sweep (the class's, or `reference`)."""
        expected, expected_index = ((run_datasets(reference), index_columns(reference))
                                    if reference else (self.expected, self.expected_index))
        assert_same_runs(self, expected, run_datasets(store))
        got = index_columns(store)
        self.assertEqual(sorted(got), sorted(expected_index))
        for name, values in expected_index.items():
            self.assertTrue(np.array_equal(values, got[name],
                                           equal_nan=values.dtype.kind == "f"), name)

    def start(self, ranks, store, *extra, output=subprocess.PIPE):
        return subprocess.Popen(sweep_command(ranks, self.config, store, *extra), env=ENV,
                                stdout=output, stderr=output, text=True, start_new_session=True)

    def wait_for_progress(self, store, seconds):
        deadline = time.time() + 60
        while not os.path.exists(store) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(seconds)

    def test_stop_signal_saves_running_runs_and_resume_continues_them(self):
        # SIGUSR1 to mpirun (which forwards it to the ranks, as in a SLURM job), with one run
        # group of two ranks and with two groups of one.
        for extra in ((), ("--group-size", "2")):
            store = self.path(f"usr1{len(extra)}.h5")
            job = self.start(2, store, *extra)
            self.wait_for_progress(store, 0.4 * self.duration)
            job.send_signal(signal.SIGUSR1)
            out, err = job.communicate(timeout=120)
            self.assertEqual(job.returncode, 3, err)
            self.assertIn("stopped by a signal", out)
            self.assertFalse(os.path.exists(store + ".lock"))  # a clean stop frees the store
            status, steps = statuses(store), saved_steps(store)
            running = status == 1
            self.assertTrue(np.any(running), status)
            # Every run stopped mid-way saved its state; nothing else holds a partial one.
            self.assertTrue(np.all(steps[running] > 0), steps)
            self.assertTrue(np.all(steps[status == 0] == -1))
            # ls counts them as running and, read from their saved steps, as saved.
            listing = subprocess.run([BIN, "ls", store], capture_output=True, text=True,
                                     env=ENV).stdout
            row = next(line.split() for line in listing.splitlines() if line.startswith("grid"))
            counts = [np.sum(running), np.sum(steps[running] > 0), np.sum(status == 0)]
            self.assertEqual(row[4:7], [str(int(n)) for n in counts], listing)
            resumed = self.sweep(2, store, "--resume", *extra)
            self.assertIn("continued from a saved state", resumed.stdout, resumed.stderr)
            self.assertEqual(resumed.returncode, 1)  # the diverged runs, as in the reference
            self.assert_equals_reference(store)

    def test_sigterm_stops_a_single_process(self):
        # Started without mpirun (a singleton), as `srun` starts each task.
        store = self.path("term.h5")
        job = subprocess.Popen([BIN, "sweep", self.config, "--store", store, "-q"], env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_for_progress(store, 0.5 * self.duration)
        job.send_signal(signal.SIGTERM)
        _, err = job.communicate(timeout=120)
        self.assertEqual(job.returncode, 3, err)
        self.assertEqual(self.sweep(1, store, "--resume").returncode, 1)
        self.assert_equals_reference(store)

    def test_sigkill_at_random_moments_loses_nothing_recorded(self):
        trials = int(os.environ.get("SSLDYN_KILL_TRIALS", "8"))
        rng = random.Random(20261129)
        outcomes = {"before the store": 0, "runs pending": 0, "states saved": 0}
        for trial in range(trials):
            store = self.path(f"kill{trial}.h5")
            # Frequent checkpoints, so that kills also land inside the saving of a state.
            job = self.start(2, store, "--checkpoint-every", "0.05", output=subprocess.DEVNULL)
            # From mpirun's start-up to just after the last run.
            time.sleep(rng.uniform(0.1, 1.0) * self.duration)
            subprocess.run(["pkill", "-KILL", "-s", str(job.pid)])
            job.wait()
            time.sleep(0.1)
            self.assertNotEqual(subprocess.run(["pgrep", "-f", store]).returncode, 0)
            if not os.path.exists(store):
                outcomes["before the store"] += 1
                resumed = self.sweep(2, store, "--break-lock")
            else:
                # The store opens, and every run marked done holds exactly its final data.
                self.assertEqual(subprocess.run(["h5dump", "-H", store],
                                                capture_output=True).returncode, 0, trial)
                status, steps = statuses(store), saved_steps(store)
                outcomes["runs pending"] += int(np.any(status < 2))
                outcomes["states saved"] += int(np.any((status == 1) & (steps > 0)))
                done = run_datasets(store)
                for row in np.flatnonzero(status >= 2):
                    expected, got = (run_part(d, "grid", row) for d in (self.expected, done))
                    self.assertEqual(sorted(got), sorted(expected))
                    for name in expected:
                        self.assertTrue(np.array_equal(expected[name], got[name],
                                                       equal_nan=True), (trial, row, name))
                resumed = self.sweep(2, store, "--resume", "--break-lock")
                self.assertTrue(np.all(statuses(store)[status >= 2] == status[status >= 2]))
            self.assertEqual(resumed.returncode, 1, (trial, resumed.stderr))
            self.assert_equals_reference(store)
            os.remove(store)
        print(f"\n{trials} kill trials: {outcomes}")
        if trials >= 8:
            self.assertGreater(outcomes["runs pending"], 0)
            self.assertGreater(outcomes["states saved"], 0)

    def test_events_name_each_job_with_its_ranks_and_the_runs_it_ran(self):
        # A sweep on 2 ranks killed mid-way, resumed on 1: the history holds both jobs, each
        # with its ranks, host and command line, and every run names the job that ran it.
        store = self.path("events.h5")
        before = time.time()
        job = self.start(2, store, output=subprocess.DEVNULL)
        status = None
        deadline = time.time() + 120
        while time.time() < deadline:  # killed once some runs are done and some are not
            time.sleep(0.05)
            try:
                status = statuses(store)
            except (OSError, KeyError):
                continue  # not there yet, or not yet readable
            if np.sum(status == 2) >= 2:
                break
        subprocess.run(["pkill", "-KILL", "-s", str(job.pid)])
        job.wait()
        killed = time.time()
        status = statuses(store)
        self.assertTrue(np.any(status == 2) and np.any(status < 2), status)
        resumed = self.sweep(1, store, "--resume", "--break-lock")
        after = time.time()
        self.assertEqual(resumed.returncode, 1, resumed.stderr)  # the diverged runs
        self.assert_equals_reference(store)

        events = events_of(store)
        self.assertEqual(list(events["event"]), [0, 1])
        self.assertEqual(list(events["kind"]), ["start", "resume"])
        self.assertEqual(list(events["ranks"]), [2, 1])
        self.assertEqual(list(events["group_size"]), [1, 1])
        self.assertEqual(list(events["hosts"]), [socket.gethostname()] * 2)
        self.assertEqual(list(events["end"]), ["", "finished"])  # the first was killed
        for command, resume in zip(events["command"], (False, True)):
            self.assertTrue(command.startswith(BIN) or command.split()[0].endswith("ssldyn"),
                            command)
            self.assertIn(f"sweep {self.config} --store {store}", command)
            self.assertEqual("--resume" in command, resume, command)
        self.assertEqual(list(events["blas_threads"]), [1, 1])  # OPENBLAS_NUM_THREADS=1
        # Times: UTC seconds since 1970 (as time.time(), to the millisecond and the rounding of
        # a process start), in order: job 0, its runs, the kill, job 1, its runs, its end.
        run_event, started, ended = per_run(store, "event", "started", "ended")
        # Runs done before the kill stay; the others (failed ones too) ran again.
        self.assertTrue(np.array_equal(run_event, np.where(status == 2, 0, 1)), run_event)
        e_started, e_ended = events["started"], events["ended"]
        slack = 0.01
        first, second = run_event == 0, run_event == 1
        self.assertTrue(before - slack <= e_started[0] <= started[first].min())
        self.assertTrue(np.all(started <= ended))
        self.assertTrue(ended[first].max() <= killed + slack)
        self.assertTrue(np.isnan(e_ended[0]))
        self.assertTrue(killed - slack <= e_started[1] <= started[second].min())
        self.assertTrue(ended[second].max() <= e_ended[1] <= after + slack)
        # The same through the Python package: a DataFrame, times as UTC timestamps.
        with Store(store) as opened:
            frame = opened.sweep("grid").events()
        self.assertEqual(list(frame.index), [0, 1])
        self.assertEqual(list(frame["ranks"]), [2, 1])
        self.assertEqual(str(frame["started"].dt.tz), "UTC")
        self.assertAlmostEqual(frame["started"][1].timestamp(), e_started[1], places=3)
        self.assertTrue(pd.isna(frame["ended"][0]))
        # ls -v shows the history; query selects on the per-run columns.
        listing = subprocess.run([BIN, "ls", "-v", store], env=ENV, capture_output=True,
                                 text=True)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertRegex(listing.stdout, r"0\s+start\s+\S+Z\s+-\s+running or killed\s+%d\s+2\s"
                         % np.sum(first))
        self.assertRegex(listing.stdout, r"1\s+resume\s+\S+Z\s+\S+Z\s+finished\s+%d\s+1\s"
                         % np.sum(second))
        query = subprocess.run([BIN, "query", store, "--where", "event == 1", "--columns",
                                "event", "--format", "csv"], env=ENV, capture_output=True,
                               text=True)
        self.assertEqual(query.returncode, 0, query.stderr)
        self.assertEqual(len(query.stdout.splitlines()) - 1, np.sum(second), query.stdout)

    def test_a_store_without_events_gains_them_on_resume(self):
        # A store of the build before events (schema 2 without events/, started, ended, event)
        # opens and resumes; the resume adds the table and is its first event.
        store = self.path("old.h5")
        shutil.copy(self.reference, store)
        with h5py.File(store, "r+") as f:
            group = f["sweeps/grid"]
            for name in ("started", "ended", "event"):
                group[name].dims[0].detach_scale(group["run"])
                del group[name]
            del group["events"]
            group["status"][0] = 0  # one done run to run again, with the failed ones
            rerun = group["status"][()] != 2
        listing = subprocess.run([BIN, "ls", "-v", store], env=ENV, capture_output=True,
                                 text=True)
        self.assertIn("none recorded", listing.stdout, listing.stderr)
        resumed = self.sweep(1, store, "--resume")
        self.assertEqual(resumed.returncode, 1, resumed.stderr)
        self.assert_equals_reference(store)
        events = events_of(store)
        self.assertEqual(list(events["kind"]), ["resume"])
        self.assertEqual(list(events["ranks"]), [1])
        (run_event,) = per_run(store, "event")
        self.assertTrue(np.array_equal(run_event, np.where(rerun, 0, -1)), run_event)

    def test_sigterm_and_sigint_to_mpirun_leave_no_lock_and_resume_alike(self):
        # What a scheduler sends (SIGTERM to every process of the job) and what Ctrl-C sends
        # (SIGINT to mpirun's process group; the ranks have groups of their own and get
        # mpirun's SIGTERM): mpirun aborts the job, giving the ranks the grace the job scripts
        # set (OMPI_MCA_odls_base_sigkill_timeout) before it kills them; they save, free the
        # store and record why they stopped. Open MPI's mpirun
        # exits 1 whatever its ranks return (README `ssldyn sweep`), and may drop their output
        # once it aborts: the stop is read from the history. The resume, without --break-lock,
        # is the uninterrupted sweep. mpirun passes the SIGTERM on only after the grace (2 s
        # here): the sweep is four times the class's (about 8 s of runs), so that runs are left
        # when it arrives on a machine several times faster than this one.
        config = self.path("longer.ini")
        with open(config, "w") as f:
            f.write(LONG.replace("steps = 25000", "steps = 100000"))
        reference = self.path("longer-reference.h5")
        self.assertEqual(self.sweep(2, reference, config=config).returncode, 1)
        env = dict(ENV, OMPI_MCA_odls_base_sigkill_timeout="2")
        for name in ("TERM", "INT"):
            store = self.path(f"mpirun-{name}.h5")
            job = subprocess.Popen(sweep_command(2, config, store), env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
            self.wait_for_progress(store, 0.2)
            os.killpg(job.pid, getattr(signal, f"SIG{name}"))
            _, err = job.communicate(timeout=120)
            self.assertIn(job.returncode, (1, 3), err)
            self.assertFalse(os.path.exists(store + ".lock"), name)
            self.assertEqual(list(events_of(store)["end"]), ["stopped by SIGTERM"])
            self.assertTrue(np.any(statuses(store) < 2))  # runs were left to resume
            resumed = self.sweep(2, store, "--resume", config=config)
            self.assertEqual(resumed.returncode, 1, resumed.stderr)
            self.assert_equals_reference(store, reference)

    def test_sigterm_to_mpirun_while_the_store_is_built(self):
        # SIGTERM to mpirun alone, with Open MPI's default grace (the ranks get SIGTERM a
        # second later and SIGKILL a second after that) while 30 000 runs' store is built (a
        # second or more). Nothing is left behind (no lock, no partial file, no half sweep);
        # the store is free for the next job.
        config = self.path("many.ini")
        with open(config, "w") as f:
            f.write(MANY)
        store = self.path("many.h5")
        job = subprocess.Popen(sweep_command(2, config, store), env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.time() + 60
        while not os.path.exists(store + ".lock") and time.time() < deadline:
            time.sleep(0.01)
        job.send_signal(signal.SIGTERM)
        _, err = job.communicate(timeout=120)
        self.assertIn(job.returncode, (1, 3), err)
        left = sorted(n for n in os.listdir(self.dir) if n.startswith("many.h5"))
        self.assertIn(left, ([], ["many.h5"]), left)  # built whole, or not at all
        if left:
            self.assertEqual(list(events_of(store)["end"]), ["stopped by SIGTERM"])
        # The next job is not refused for a lock: stopped again at once by SIGUSR1.
        again = subprocess.Popen(sweep_command(2, config, store, *(["--resume"] if left else [])),
                                 env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
        while not os.path.exists(store + ".lock") and again.poll() is None:
            time.sleep(0.01)
        again.send_signal(signal.SIGUSR1)
        out, err = again.communicate(timeout=120)
        self.assertEqual(again.returncode, 3, err)
        self.assertFalse(os.path.exists(store + ".lock"))

    def test_shards_merge_into_the_single_job_store(self):
        shards = [self.path(f"shard{i}.h5") for i in range(3)]
        for i, shard in enumerate(shards):
            result = self.sweep(2 if i == 0 else 1, shard, "--shard", f"{i}/3")
            self.assertIn(f"shard {i}/3: 8 runs", result.stdout, result.stderr)
        merged = self.path("merged.h5")
        result = subprocess.run([BIN, "merge", "--store", merged, *shards[::-1]], env=ENV,
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("24 runs, 16 done", result.stdout)
        self.assert_equals_reference(merged)
        with h5py.File(merged, "r") as f:
            self.assertNotIn("shard", f["sweeps/grid"].attrs)
            self.assertEqual(f["sweeps/grid"].attrs["run_count"], 24)
        # ls names the failed (diverged) runs and why.
        listing = subprocess.run([BIN, "ls", merged], capture_output=True, text=True).stdout
        self.assertRegex(listing, r"grid\s+24\s+16\s+8\s+0\s+0")
        self.assertIn("failed runs of grid:", listing)
        self.assertRegex(listing, r"dynamics=naive k=\d seed=\d: non-finite .* at step \d+")
        self.assertIn("... and 3 more", listing)
        # Its history: each shard's job, then the merge; a run names its shard's job.
        events = events_of(merged)
        self.assertEqual(list(events["kind"]), ["start"] * 3 + ["merge"])
        self.assertEqual(list(events["ranks"]), [2, 1, 1, 1])
        self.assertTrue(all(f"--shard {i}/3" in c for i, c in enumerate(events["command"][:3])))
        (run_event,) = per_run(merged, "event")
        self.assertTrue(np.array_equal(run_event, np.arange(24) % 3), run_event)
        # The merged store is a whole sweep: a resume reruns only its failed runs.
        failed = statuses(merged) == 3
        again = self.sweep(1, merged, "--resume")
        self.assertIn("(16 done before this resume)", again.stdout, again.stderr)
        self.assert_equals_reference(merged)
        self.assertEqual(list(events_of(merged)["kind"]), ["start"] * 3 + ["merge", "resume"])
        (run_event,) = per_run(merged, "event")
        self.assertTrue(np.array_equal(run_event, np.where(failed, 4, np.arange(24) % 3)))

    def test_bad_merges_and_shards_change_nothing(self):
        shards = [self.path(f"bad{i}.h5") for i in range(2)]
        for i, shard in enumerate(shards):
            self.sweep(1, shard, "--shard", f"{i}/3")
        other = self.path("other.ini")
        with open(other, "w") as f:
            f.write(LONG.replace("seed = 1, 2", "seed = 1, 3"))
        foreign = self.path("foreign.h5")
        self.sweep(1, foreign, "--shard", "2/3", config=other)
        out = self.path("out.h5")
        cases = [
            ((shards[0], shards[1]), "missing shard stores for shards 2 (of 0 to 2)"),
            ((shards[0], shards[0]), "named twice"),
            ((shards[0], shards[1], foreign), "sharded from another config"),
            ((shards[0], self.reference), "is not a shard (written without --shard)"),
            ((shards[0], self.path("nothing.h5")), "nothing.h5: no such store"),
            ((shards[0], self.config), "not an HDF5 file"),
        ]
        for files, message in cases:
            before = digest(self.dir)
            result = subprocess.run([BIN, "merge", "--store", out, *files], env=ENV,
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 2, files)
            self.assertIn(message, result.stderr)
            self.assertEqual(digest(self.dir), before)
        for shard, message in [("3/3", "not a shard I/N"), ("-1/2", "not a shard I/N"),
                               ("1", "not a shard I/N"), ("0/0", "not a shard I/N")]:
            before = digest(self.dir)
            result = self.sweep(1, self.path("new.h5"), "--shard", shard)
            self.assertEqual(result.returncode, 2)
            self.assertIn(message, result.stderr)
            self.assertEqual(digest(self.dir), before)
        # Resuming a shard as another shard is refused.
        result = self.sweep(1, shards[0], "--resume", "--shard", "1/3")
        self.assertEqual(result.returncode, 2)
        self.assertIn("started with another config", result.stderr)


if __name__ == "__main__":
    unittest.main()
