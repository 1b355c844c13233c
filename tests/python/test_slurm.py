"""The SLURM job scripts in jobs/, submitted as they are with sbatch to a private single-node
SLURM cluster (slurm_cluster.py): the sweep job with srun and with mpirun, the sharded job array
and its dependent merge, and one preemption -> requeue -> resume cycle. Every store must equal
the one a local `mpirun -n 2 ssldyn sweep` writes (wall times and host aside).

SLURM must be installed (Debian: munge slurmctld slurmd slurm-client; cmake/setup.sh installs
them): without it this test fails, unless SSLDYN_SKIP_SLURM=1.

Every process runs in the test's temporary folder, so core dumps land there; after each test a
core of a SLURM program or of a job is reported (program, signal, backtrace), not left behind.
Debian 12's slurmstepd (SLURM 22.05, mpi/pmix_v4 with PMIx 4.2.2) now and then dies of SIGSEGV
at address 0 in PMIx_server_finalize while it cleans up after an srun step has ended
(stepd_cleanup -> mpi_fini): PMIx destructs an object whose class has no destructor table. A
fault of those libraries, after the step's end was reported; the tests judge the jobs by their
state, exit code and store as always, and report the core."""

import atexit
import os
import resource
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

import slurm_cluster
from slurm_cluster import SlurmCluster, describe_core, missing_programs
from test_sweep import ENV, MPIEXEC, SMALL  # the same 24 short runs on synthetic data

BIN = os.path.abspath(shutil.which(os.environ.get("SSLDYN_BIN", "ssldyn")) or
                      os.environ.get("SSLDYN_BIN", "ssldyn"))
SOURCE = os.environ.get("SSLDYN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
JOBS = os.path.join(os.path.abspath(SOURCE), "jobs")
WAIT = 180  # seconds any one job may take before the test gives up on it

# 16 runs of 0.2-1 s each (about 10 s of runs, 5 s on 2 idle ranks): long enough for a signal
# to land while some runs are done, some running and some pending.
LONG = """
[sweep]
name = preempt
[fixed]
data = spiked
d = 160
spikes = 5,3,2
bulk = 0.5
n = 400
sigma_aug = 0.2
steps = 40000
record_every = 2000
[axes]
loss = noncontrastive, contrastive
dynamics = sphere, orthogonal
k = 2, 3
seed = 1, 2
"""

# Result columns that measure the machine or name the job, not the run; and the history of the
# jobs (events/).
WALL_TIME = ("seconds", "seconds_per_step", "host", "started", "ended", "event")


def store_contents(path):
    """Every dataset under /sweeps (result columns of wall time and host left out) and the
    sweep attributes that describe the sweep, keyed by path."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                if name.count("/") == 2 and name.rsplit("/", 1)[1] in WALL_TIME:  # sweeps/S/X
                    return
                if name.split("/")[2] == "events":  # sweeps/S/events/X
                    return
                out[name] = obj[()]
        f["sweeps"].visititems(lambda name, obj: visit("sweeps/" + name, obj))
        for sweep in f["sweeps"]:
            for key in ("config", "run_count", "axes"):
                out[f"sweeps/{sweep}@{key}"] = f[f"sweeps/{sweep}"].attrs[key]
    return out


def differences(expected, actual):
    """Names that differ between two store_contents (bit for bit; NaN equals NaN)."""
    wrong = sorted(set(expected) ^ set(actual))
    for name in sorted(set(expected) & set(actual)):
        a, b = np.asarray(expected[name]), np.asarray(actual[name])
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            wrong.append(name)
    return wrong


def feature_missing():
    """What the binary lacks of the SLURM-related command line: {feature: reason}."""
    missing = {}
    merge = subprocess.run([BIN, "merge", "--help"], capture_output=True, text=True, env=ENV)
    if merge.returncode != 0:
        missing["merge"] = "this ssldyn has no `merge` command (`ssldyn merge --help` exits " \
                           f"with {merge.returncode})"
    sweep = subprocess.run([BIN, "sweep", "--help"], capture_output=True, text=True, env=ENV)
    for option in ("--shard", "--checkpoint-every"):
        if option not in sweep.stdout:
            missing[option] = f"`ssldyn sweep --help` lists no {option}"
    return missing


class SlurmJobsTest(unittest.TestCase):
    cluster = None
    long_expected = None

    @classmethod
    def setUpClass(cls):
        if os.environ.get("SSLDYN_SKIP_SLURM") == "1":
            raise unittest.SkipTest("SSLDYN_SKIP_SLURM=1")
        missing = missing_programs()
        if missing:
            raise AssertionError(
                "SLURM is not installed (missing " + ", ".join(missing) + "): install the Debian "
                "packages munge slurmctld slurmd slurm-client (bash cmake/setup.sh deps), or set "
                "SSLDYN_SKIP_SLURM=1 to skip the SLURM tests")
        cls.missing = feature_missing()
        cls.tmp = tempfile.mkdtemp(prefix="ssldyn-slurm-")
        os.chmod(cls.tmp, 0o755)  # munged wants every folder above its socket open to all
        cls.work = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work)
        cls.cluster = SlurmCluster(os.path.join(cls.tmp, "cluster"))
        atexit.register(cls.clean_up)  # should tearDownClass never run
        cls.previous_sigterm = signal.getsignal(signal.SIGTERM)

        def terminated(signum, frame):
            # unittest records SystemExit in a test as an error and goes on; KeyboardInterrupt
            # ends the run, through the finally blocks, and atexit stops the cluster.
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, terminated)
        try:
            start = time.time()
            cls.cluster.start()
            cls.say(f"private SLURM cluster up in {time.time() - start:.2f} s "
                    f"(node {cls.cluster.node}, {cls.cluster.cpus} CPUs, {cls.cluster.dir})")
            cls.small = cls.write("small.ini", SMALL)
            cls.long = cls.write("long.ini", LONG)
            cls.reference = os.path.join(cls.tmp, "reference.h5")
            cls.local_sweep(cls.small, cls.reference)
            cls.expected = store_contents(cls.reference)
        except BaseException:
            cls.clean_up()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.clean_up()

    @classmethod
    def clean_up(cls):
        """Stops the cluster (every job first) and removes the folder; once is enough."""
        if cls.cluster is None:
            return
        try:
            start = time.time()
            cls.cluster.stop()
            cls.say(f"cluster stopped in {time.time() - start:.2f} s")
            cls.report_core_dumps("when the cluster stopped")
        finally:
            cls.cluster = None
            signal.signal(signal.SIGTERM, cls.previous_sigterm)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.report_core_dumps(f"in {self._testMethodName}")

    @classmethod
    def report_core_dumps(cls, when):
        """Says which process dumped core since the last look (the daemons', job steps' and
        jobs' folders are all under the test's folder, removed at the end)."""
        if cls.cluster is None:
            return
        for path in cls.cluster.new_core_dumps(cls.work):
            cls.say(f"core dump {when}:\n{describe_core(path)}")

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def say(text):
        sys.stderr.write(f"[slurm] {text}\n")
        sys.stderr.flush()

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def local_sweep(cls, config, store):
        subprocess.run([MPIEXEC, "-n", "2", "--oversubscribe", "--allow-run-as-root", BIN,
                        "sweep", config, "--store", store, "-q"], cwd=cls.tmp,
                       env=ENV, capture_output=True, text=True, check=True, timeout=300)

    @classmethod
    def long_reference(cls):
        """The long sweep (cls.long) uninterrupted on 2 local ranks, once: its store_contents."""
        if cls.long_expected is None:
            start = time.time()
            path = os.path.join(cls.tmp, "long-reference.h5")
            cls.local_sweep(cls.long, path)
            cls.long_expected = store_contents(path)
            cls.say(f"uninterrupted long sweep: {time.time() - start:.1f} s on 2 local ranks")
        return cls.long_expected

    def job_env(self, **settings):
        env = dict(ENV, SLURM_CONF=self.cluster.conf, SSLDYN=BIN)
        env.update({k: str(v) for k, v in settings.items()})
        return env

    def sbatch(self, script, *options, **settings):
        """Submits jobs/SCRIPT itself from the work folder; returns the job id."""
        result = subprocess.run(["sbatch", "--parsable", *options, os.path.join(JOBS, script)],
                                cwd=self.work, env=self.job_env(**settings), capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, f"sbatch {script}: {result.stderr}")
        return result.stdout.strip().split(";")[0]

    def wait_gone(self, *job_ids, timeout=WAIT):
        """Until squeue shows none of the jobs (array tasks included) any more."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            result = self.cluster.client("squeue", "-h", "-j", ",".join(job_ids), "-o", "%i",
                                         check=False)
            if result.returncode == 0 and not result.stdout.strip():
                return
            time.sleep(0.1)
        self.fail(f"jobs {job_ids} still queued after {timeout} s:\n" + self.diagnostics())

    def state(self, job_id):
        found = self.cluster.show_jobs(job_id)
        return found[0] if found else {}

    def log(self, name):
        path = os.path.join(self.work, name)
        if not os.path.exists(path):
            return f"(no log {path})"
        with open(path, errors="replace") as f:
            return f.read()

    def diagnostics(self):
        squeue = self.cluster.client("squeue", "-a", check=False).stdout
        return (f"squeue:\n{squeue}\nslurmctld:\n{self.cluster.log_tail('slurmctld', 15)}\n"
                f"slurmd:\n{self.cluster.log_tail('slurmd', 15)}")

    def assert_completed(self, record, log):
        self.assertEqual((record.get("JobState"), record.get("ExitCode")), ("COMPLETED", "0:0"),
                         f"job {record.get('JobId')}:\n{log}")

    def assert_same_store(self, expected, path, what):
        self.assertTrue(os.path.exists(path), f"{what}: no store {path}")
        wrong = differences(expected, store_contents(path))
        self.assertFalse(wrong, f"{what}: {len(wrong)} datasets differ from the local sweep's, "
                                f"e.g. {wrong[:5]}")

    def skip_without(self, *features):
        reasons = [self.missing[f] for f in features if f in self.missing]
        if reasons:
            self.skipTest("; ".join(reasons) + " (not implemented in this build)")

    # -- tests -----------------------------------------------------------------------------------
    def test_sweep_job_with_srun_and_with_mpirun(self):
        start = time.time()
        jobs = {launch: self.sbatch("sweep.slurm", "--ntasks=2", CONFIG=self.small,
                                    STORE=f"{launch}.h5", LAUNCH=launch)
                for launch in ("srun", "mpirun")}
        self.wait_gone(*jobs.values())
        for launch, job in jobs.items():
            log = self.log(f"ssldyn-sweep-{job}.out")  # the script's --output, in the submit dir
            self.assert_completed(self.state(job), log)
            self.assertIn("24 runs, 24 done, 0 failed", log)
            self.assertIn({"srun": "srun --mpi=pmix", "mpirun": "mpirun -n 2"}[launch], log)
            self.assert_same_store(self.expected, os.path.join(self.work, f"{launch}.h5"),
                                   f"sweep.slurm with LAUNCH={launch}")
        # Submitted again on a store that holds the sweep, the job resumes: nothing left to do.
        before = store_contents(os.path.join(self.work, "mpirun.h5"))
        again = self.sbatch("sweep.slurm", "--ntasks=1", CONFIG=self.small, STORE="mpirun.h5",
                            LAUNCH="mpirun")
        self.wait_gone(again)
        log = self.log(f"ssldyn-sweep-{again}.out")
        self.assert_completed(self.state(again), log)
        self.assertIn("--resume", log)
        self.assertIn("24 done before this resume", log)
        self.assertFalse(differences(before, store_contents(os.path.join(self.work, "mpirun.h5"))))
        # Bad input is exit code 2, before anything runs.
        bad = self.sbatch("sweep.slurm", "--ntasks=1", CONFIG="no-such.ini", STORE="bad.h5")
        self.wait_gone(bad)
        self.assertEqual(self.state(bad).get("ExitCode"), "2:0",
                         self.log(f"ssldyn-sweep-{bad}.out"))
        self.say(f"sweep.slurm: srun and mpirun jobs, a resubmission and a bad config in "
                 f"{time.time() - start:.1f} s")

    def test_sweep_names_come_from_ssldyn(self):
        # The script takes the sweep's name from `ssldyn sweep CONFIG --print name` and makes the
        # store's folder only then: a name that climbs out of the submit folder is bad input
        # (it made folders outside it), and nothing is made.
        start = time.time()
        climbing = self.write("climbing.ini", SMALL.replace("name = grid",
                                                            "name = ../../outside/x"))
        outside = os.path.join(self.tmp, "outside")  # work/results/../../outside
        self.assertFalse(os.path.exists(outside))
        bad = self.sbatch("sweep.slurm", "--ntasks=1", CONFIG=climbing, LAUNCH="mpirun")
        # Whether the store holds the sweep is asked exactly (`ls --format json`): a new sweep named
        # `failed` in a store with failed runs ("failed runs of …" in `ssldyn ls`) was resumed,
        # and refused as a resume of a sweep the store does not hold.
        store = os.path.join(self.work, "with-failures.h5")
        diverging = self.write("diverging.ini", SMALL.replace("steps = 300",
                                                              "steps = 300\neta = 1e308"))
        result = subprocess.run([BIN, "sweep", diverging, "--store", store, "-q"], env=ENV,
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 1, result.stderr)  # every run diverges at once
        listing = subprocess.run([BIN, "ls", store], capture_output=True, text=True,
                                 env=ENV).stdout
        self.assertIn("\nfailed runs of grid:", listing)  # what the old script took for a sweep
        named_failed = self.write("failed.ini", SMALL.replace("name = grid", "name = failed"))
        added = self.sbatch("sweep.slurm", "--ntasks=1", CONFIG=named_failed, STORE=store,
                            LAUNCH="mpirun")
        self.wait_gone(bad, added)
        log = self.log(f"ssldyn-sweep-{bad}.out")
        self.assertEqual(self.state(bad).get("ExitCode"), "2:0", log)
        self.assertIn("sweep name '../../outside/x' may not start with '.'", log)
        self.assertFalse(os.path.exists(outside), log)
        self.assertFalse(os.path.exists(os.path.join(self.work, "results")), log)
        log = self.log(f"ssldyn-sweep-{added}.out")
        self.assert_completed(self.state(added), log)
        self.assertNotIn("--resume", log)
        with h5py.File(store, "r") as f:
            self.assertEqual(sorted(f["sweeps"]), ["failed", "grid"])
            self.assertTrue(all(f["sweeps/failed/status"][()] == 2))
        self.say(f"sweep names: a climbing name refused, a sweep named failed added "
                 f"({time.time() - start:.1f} s)")

    def test_setup_hook_and_job_sized_by_the_dry_run(self):
        # jobs/submit.sh sizes the job from ssldyn (--cpus-per-task = THREADS, --mem-per-cpu from
        # `--print memory-per-rank`) and the job runs the site's set-up (SSLDYN_SETUP, a file
        # sourced with unset variables allowed, as module and activate scripts expect) first.
        start = time.time()
        hook = self.write("setup.sh", 'echo "setup hook: sourced ${NOT_SET_ANYWHERE}"\n'
                                      'export SSLDYN_HOOK_MARK=42\n')
        env = self.job_env(CONFIG=self.small, STORE="hooked.h5", LAUNCH="mpirun", THREADS=1,
                           SSLDYN_SETUP=hook)
        submitted = subprocess.run([os.path.join(JOBS, "submit.sh"), "--ntasks=2"], cwd=self.work,
                                   env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(submitted.returncode, 0, submitted.stderr)
        job = submitted.stdout.strip()
        memory = int(subprocess.run([BIN, "sweep", self.small, "--print", "memory-per-rank"],
                                    env=ENV, capture_output=True, text=True, check=True).stdout)
        expected = (-(-memory // 1048576) + 300) * 125 // 100  # submit.sh's, for THREADS = 1
        record = self.state(job)
        self.assertEqual(record.get("MinMemoryCPU"), f"{expected}M",
                         f"{record}\nsubmit.sh said: {submitted.stdout}\n{submitted.stderr}")
        self.assertEqual(record.get("CPUs/Task"), "1", record)
        # A job given less memory per CPU than its largest run needs (with the program itself)
        # is refused before it runs.
        starved = self.sbatch("sweep.slurm", "--ntasks=1", "--mem-per-cpu=1", CONFIG=self.small,
                              STORE="starved.h5", LAUNCH="mpirun")
        self.wait_gone(job, starved)
        log = self.log(f"ssldyn-sweep-{job}.out")
        self.assert_completed(self.state(job), log)
        self.assertIn("setup hook: sourced", log)
        self.assertIn("set up by SSLDYN_SETUP", log)
        self.assertIn("24 runs, 24 done, 0 failed", log)
        self.assert_same_store(self.expected, os.path.join(self.work, "hooked.h5"),
                               "submit.sh with a setup hook")
        log = self.log(f"ssldyn-sweep-{starved}.out")
        self.assertEqual(self.state(starved).get("ExitCode"), "2:0", log)
        self.assertIn("available per rank (SLURM_MEM_PER_CPU less this process's", log)
        self.assertFalse(os.path.exists(os.path.join(self.work, "starved.h5")), log)
        # A failing set-up stops the job before anything runs.
        broken = self.sbatch("sweep.slurm", "--ntasks=1", CONFIG=self.small, STORE="broken.h5",
                             LAUNCH="mpirun", SSLDYN_SETUP="false")
        self.wait_gone(broken)
        log = self.log(f"ssldyn-sweep-{broken}.out")
        self.assertEqual(self.state(broken).get("ExitCode"), "2:0", log)
        self.assertIn("SSLDYN_SETUP failed", log)
        self.say(f"setup hook, a job sized by submit.sh, a starved and a broken job in "
                 f"{time.time() - start:.1f} s")

    def test_only_a_lock_of_a_job_gone_is_cleared(self):
        # A requeued job whose earlier incarnation was killed finds that incarnation's lock
        # (same job id): it is certainly gone, so the job clears it. A lock of another job stays
        # while SLURM says that job runs; one of a job SLURM no longer knows is cleared, without
        # --break-lock.
        start = time.time()
        dead = subprocess.Popen(["true"])
        dead.wait()  # a process id that is gone
        sleeper = self.cluster.client("sbatch", "--parsable", "--ntasks=1", "-o", "/dev/null",
                                      "--wrap", "sleep 300").stdout.strip().split(";")[0]
        jobs = {}
        for name in ("own", "other", "gone"):
            shutil.copy(self.reference, os.path.join(self.work, f"{name}.h5"))
            jobs[name] = self.sbatch("sweep.slurm", "--hold", "--ntasks=1", CONFIG=self.small,
                                     STORE=f"{name}.h5", LAUNCH="mpirun")
            holder = {"own": jobs[name], "other": sleeper,
                      "gone": str(int(jobs[name]) + 1000)}[name]
            with open(os.path.join(self.work, f"{name}.h5.lock"), "w") as f:
                f.write(f"host {socket.gethostname()}\npid {dead.pid}\njob {holder}\n"
                        "since 2026-01-01T00:00:00Z\n")
        self.cluster.client("scontrol", "release", *jobs.values())
        self.wait_gone(*jobs.values())
        self.assertEqual(self.state(sleeper).get("JobState"), "RUNNING")
        self.cluster.client("scancel", sleeper)
        log = self.log(f"ssldyn-sweep-{jobs['own']}.out")
        self.assert_completed(self.state(jobs["own"]), log)
        self.assertIn("--resume --break-lock", log)
        self.assertFalse(os.path.exists(os.path.join(self.work, "own.h5.lock")))
        log = self.log(f"ssldyn-sweep-{jobs['other']}.out")
        self.assertEqual(self.state(jobs["other"]).get("ExitCode"), "2:0", log)
        self.assertNotRegex(log, r"restart 0 on .*--break-lock")
        self.assertIn(f"in use by process {dead.pid} on {socket.gethostname()}, SLURM job "
                      f"{sleeper}", log)
        self.assertIn(f"SLURM says job {sleeper} is RUNNING", log)
        self.assertTrue(os.path.exists(os.path.join(self.work, "other.h5.lock")))
        log = self.log(f"ssldyn-sweep-{jobs['gone']}.out")
        self.assert_completed(self.state(jobs["gone"]), log)
        self.assertNotIn("--break-lock", log)
        self.assertIn(f"cleared the stale lock of process {dead.pid}", log)
        self.assertIn(f"SLURM says job {int(jobs['gone']) + 1000} is unknown to SLURM", log)
        self.assertFalse(os.path.exists(os.path.join(self.work, "gone.h5.lock")))
        self.say(f"locks of the same job, of a running and of a forgotten job in "
                 f"{time.time() - start:.1f} s")

    def test_sharded_array_then_merge(self):
        self.skip_without("merge", "--shard")
        start = time.time()
        result = subprocess.run([os.path.join(JOBS, "submit-sharded.sh"), "--ntasks=1"],
                                cwd=self.work, env=self.job_env(SHARDS=3, CONFIG=self.small,
                                                                STORE="merged.h5"),
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        array, merge = result.stdout.split()
        self.assertIn(f"array job {array}", result.stderr)
        self.wait_gone(array, merge)
        tasks = self.cluster.show_jobs(array)
        self.assertEqual(sorted(int(t["ArrayTaskId"]) for t in tasks), [0, 1, 2])
        for task in tasks:
            log = self.log(f"ssldyn-shard-{array}_{task['ArrayTaskId']}.out")  # %A_%a
            self.assert_completed(task, log)
            self.assertIn(f"--shard {task['ArrayTaskId']}/3", log)
            self.assertTrue(os.path.exists(os.path.join(
                self.work, f"merged.shard-{task['ArrayTaskId']}-of-3.h5")))
        merged = self.state(merge)
        self.assert_completed(merged, self.log(f"ssldyn-merge-{merge}.out"))
        # The dependency held the merge until the last shard ended.
        self.assertGreaterEqual(merged["StartTime"], max(t["EndTime"] for t in tasks))
        self.assert_same_store(self.expected, os.path.join(self.work, "merged.h5"),
                               "array.slurm (3 shards) + merge.slurm")
        self.say(f"array of 3 shards and the dependent merge in {time.time() - start:.1f} s")

    def test_cancelled_job_stops_with_exit_code_3_and_resumes(self):
        # scancel sends SIGTERM to every process of the job, the script, the launcher and the
        # ranks: the ranks save their running runs and free the store, the job ends with exit
        # code 3 and is not requeued (a cancelled job stays cancelled), and the same job submitted
        # again resumes, without --break-lock, to the uninterrupted sweep. mpirun, terminated
        # too, waits its kill grace twice before it exits (40 s as the script sets it, longer
        # than KillWait, 5 s here) and then says 1 whatever its ranks said. Cancelled while the
        # script prepares (its set-up runs), once the store is made but before any run is done,
        # and with runs done.
        expected = self.long_reference()
        start = time.time()
        marker = os.path.join(self.work, "setting-up")
        hook = self.write("slow-setup.sh", f"touch {marker}\nsleep 60\n")
        job = self.sbatch("sweep.slurm", "--ntasks=2", CONFIG=self.long, STORE="unmade.h5",
                          LAUNCH="mpirun", SSLDYN_SETUP=hook)
        while not os.path.exists(marker) and time.time() < start + WAIT:
            time.sleep(0.05)
        self.cluster.client("scancel", job)
        self.wait_gone(job)
        log = self.log(f"ssldyn-sweep-{job}.out")
        self.assert_stopped_not_requeued(job, log)  # not bad input (2): the set-up was cut short
        self.assertIn("stopped on SIGTERM before anything ran (exit code 3)", log)
        self.assertFalse(os.path.exists(os.path.join(self.work, "unmade.h5")), log)
        self.say(f"cancelled during the set-up: exit code 3 in {time.time() - start:.1f} s")
        for launch, moment in (("mpirun", "made"), ("mpirun", "runs"), ("srun", "runs")):
            with self.subTest(launch=launch, moment=moment):
                self.cancel_and_resume(expected, launch, moment)

    def cancel_and_resume(self, expected, launch, moment):
        start = time.time()
        store = os.path.join(self.work, f"cancelled-{launch}-{moment}.h5")
        # The store appears whole (made out of sight, then renamed); its first runs take 0.2 s
        # or more. A poller starved on a loaded machine may first see the store with runs done:
        # that job missed the moment "made", and is cancelled and tried again.
        for _ in range(3):
            job = self.sbatch("sweep.slurm", "--ntasks=2", CONFIG=self.long, STORE=store,
                              LAUNCH=launch)
            done = self.wait_for_done_runs(job, store, 1 if moment == "runs" else 0)
            if moment == "runs" or not done:
                break
            self.cluster.client("scancel", job)
            self.wait_gone(job)
            os.remove(store)
        if moment == "made":
            self.assertFalse(done, "a run was done before the made store was seen, three times")
        cancelled = time.time()
        self.cluster.client("scancel", job)
        self.wait_gone(job)
        stopped = time.time()
        log = self.log(f"ssldyn-sweep-{job}.out")
        self.assert_stopped_not_requeued(job, log)
        self.assertIn("stopped on SIGTERM with the running runs saved (exit code 3)", log)
        self.assertFalse(os.path.exists(store + ".lock"), log)
        between = self.done_runs(store)
        for row, before in done.items():
            self.assertEqual(between.get(row), before, f"run {row}, done before the signal")
        self.assertLess(len(between), 16, "every run was done before the signal")

        again = self.sbatch("sweep.slurm", "--ntasks=2", CONFIG=self.long, STORE=store,
                            LAUNCH=launch)
        self.wait_gone(again)
        log = self.log(f"ssldyn-sweep-{again}.out")
        self.assert_completed(self.state(again), log)
        self.assertRegex(log, r"restart 0 on .*--resume")
        self.assertNotIn("--break-lock", log)
        if between:
            self.assertIn(f"({len(between)} done before this resume)", log)
        else:
            self.assertNotIn("done before this resume", log)
        self.assertIn("16 runs, 16 done, 0 failed", log)
        now = self.done_runs(store)
        for row, before in between.items():
            self.assertEqual(now[row], before, f"run {row}, done before the resume, ran again")
        self.assert_same_store(expected, store, f"cancelled ({launch}, {moment}) and resumed")
        self.say(f"cancelled with {launch} ({moment}): {len(done)} of 16 runs done at the signal, "
                 f"{len(between)} when the job stopped; signal -> job gone "
                 f"{stopped - cancelled:.2f} s; {time.time() - start:.1f} s with the resume")

    def assert_stopped_not_requeued(self, job, log):
        """The job cancelled, its script's exit code 3 recorded, and no requeue."""
        time.sleep(0.5)  # a requeue would show by now
        record = self.state(job)
        self.assertEqual((record.get("JobState"), record.get("ExitCode"), record.get("Restarts")),
                         ("CANCELLED", "3:0", "0"), log)
        self.assertIn("(exit code 3)", log)
        self.assertNotIn("requeued:", log)
        self.assertFalse(self.cluster.job_ids())

    def wait_for_done_runs(self, job, store, at_least=1):
        """Polls the store of a running job until it is made and at least that many runs are
        done: {row: (seconds, host)} of the runs done."""
        deadline = time.time() + WAIT
        while time.time() < deadline:
            done = self.done_runs(store)
            if len(done) >= at_least and os.path.exists(store):
                return done
            state = self.state(job).get("JobState")
            self.assertIn(state, ("PENDING", "RUNNING"),
                          f"job {job} ended before any run was done:\n" +
                          self.log(f"ssldyn-sweep-{job}.out"))
            time.sleep(0.1 if at_least else 0.01)
        self.fail(f"no store with {at_least} runs done after {WAIT} s:\n" +
                  self.log(f"ssldyn-sweep-{job}.out"))

    def test_preempted_job_is_requeued_and_resumes(self):
        self.skip_without("--checkpoint-every")
        expected = self.long_reference()
        for launch in ("srun", "mpirun"):
            with self.subTest(launch=launch):
                self.preempt_and_resume(expected, launch)

    def preempt_and_resume(self, expected, launch):
        start = time.time()
        store = os.path.join(self.work, f"preempted-{launch}.h5")
        job = self.sbatch("sweep.slurm", "--ntasks=2", CONFIG=self.long, STORE=store,
                          LAUNCH=launch, CHECKPOINT_EVERY=60)
        logname = f"ssldyn-sweep-{job}.out"

        # Once the first runs are done, the warning SLURM would send before the time limit
        # (its own --signal timer fires only about once a minute).
        done = self.wait_for_done_runs(job, store)
        signalled = time.time()
        self.cluster.client("scancel", "--signal=USR1", "--batch", job)

        # The job stops (exit code 3), requeues itself and waits, held until its BeginTime.
        stopped = None
        while time.time() < signalled + WAIT:
            record = self.state(job)
            if record.get("Restarts") == "1" and record.get("JobState") in ("PENDING", "RUNNING"):
                stopped = time.time()
                break
            self.assertNotIn(record.get("JobState"), ("COMPLETED", "FAILED", "CANCELLED"),
                             self.log(logname))
            time.sleep(0.05)
        self.assertIsNotNone(stopped, "the job was not requeued:\n" + self.log(logname))
        between = held = None
        if record.get("JobState") == "PENDING":
            # Between the two incarnations the store is closed: runs done then must stay as
            # they are, and some must be left (else the signal came too late to test anything).
            between = self.done_runs(store)
            self.assertLess(len(between), 16, "every run was done before the stop")
            # SLURM holds a requeued job for its credential lifetime (AuthInfo cred_expire,
            # 120 s): slurmd refuses to launch a job whose credential is not newer, to the
            # second, than the kill that revoked the last one ("Job credential revoked", and
            # the job fails). So release it, but not within the second of the requeue.
            time.sleep(max(0.0, stopped + 2.0 - time.time()))
            record = self.state(job)
            held = record.get("Reason") == "BeginTime"  # right after the requeue: Reason=None
            if record.get("JobState") == "PENDING":
                self.cluster.client("scontrol", "update", f"jobid={job}", "StartTime=now")
        released = time.time()
        running = None
        while time.time() < released + WAIT:
            record = self.state(job)
            if record.get("JobState") in ("RUNNING", "COMPLETING", "COMPLETED"):
                running = time.time()
                break
            self.assertEqual(record.get("JobState"), "PENDING",
                             f"the requeued job did not start:\n{self.log(logname)}\n"
                             f"{self.diagnostics()}")
            time.sleep(0.05)
        self.assertIsNotNone(running, "the requeued job did not start:\n" + self.diagnostics())
        self.wait_gone(job)
        final = self.state(job)
        log = self.log(logname)
        self.assert_completed(final, log)
        self.assertEqual(final.get("Restarts"), "1", log)

        # One log (--open-mode=append) with both incarnations: stopped on the signal with exit
        # code 3, requeued, and restarted (SLURM_RESTART_COUNT=1) with --resume.
        self.assertIn("got SIGUSR1", log)
        self.assertIn("(exit code 3)", log)
        self.assertIn("requeued: the next incarnation resumes", log)
        self.assertRegex(log, r"restart 1 on .*--resume")
        if between is not None:
            self.assertIn(f"({len(between)} done before this resume)", log)
        self.assertIn("16 runs, 16 done, 0 failed", log)

        # No run done before the stop ran again: its wall time and host are as they were.
        with h5py.File(store, "r") as f:
            result = f["sweeps/preempt"]
            now = {row: (result["seconds"][row], result["host"][row])
                   for row in range(len(result["seconds"]))}
        for row, before in {**done, **(between or {})}.items():
            self.assertEqual(now[row], before, f"run {row}, done before the stop, ran again")
        self.assert_same_store(expected, store, f"preempted and resumed sweep ({launch})")
        hold = {True: "held by SLURM (BeginTime), released 2 s after the requeue",
                False: "pending, released 2 s after the requeue", None: "not held"}[held]
        self.say(f"preemption with {launch}: {len(done)} of 16 runs done at the signal"
                 + (f", {len(between)} when the job stopped" if between is not None else "")
                 + f"; signal -> job stopped and requeued {stopped - signalled:.2f} s, "
                 f"requeued job released -> running {running - released:.2f} s, signal -> "
                 f"running again {running - signalled:.2f} s "
                 f"({hold}); "
                 f"{time.time() - start:.1f} s in all")

    @staticmethod
    def done_runs(store):
        """{row: (seconds, host)} of the runs marked done. Read without HDF5's file lock, so as
        not to block the job writing the store (its ranks write through MPI-IO, lock-free)."""
        try:
            with h5py.File(store, "r", locking=False) as f:
                sweep = f["sweeps/preempt"]
                status = sweep["status"][()]
                seconds = sweep["seconds"][()]
                host = sweep["host"][()]
        except (OSError, KeyError):
            return {}  # not created yet
        return {int(row): (seconds[row], host[row]) for row in np.flatnonzero(status == 2)}


class CoreDumpTest(unittest.TestCase):
    """The harness's report of a core dump, on a core made here: `sleep` killed by SIGSEGV in a
    folder of its own, with core dumps allowed for it alone."""

    def test_a_core_is_found_and_described(self):
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern.startswith(("|", "/")):
            self.skipTest(f"core_pattern {pattern!r} does not write cores into the working folder")
        with tempfile.TemporaryDirectory() as folder:
            os.makedirs(os.path.join(folder, "core"))  # a folder named core is no core dump
            os.makedirs(os.path.join(folder, "run"))
            sleeper = subprocess.Popen(
                ["sleep", "60"], cwd=os.path.join(folder, "run"),
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE,
                                                      (resource.RLIM_INFINITY,) * 2))
            time.sleep(0.2)
            sleeper.send_signal(signal.SIGSEGV)
            self.assertEqual(sleeper.wait(timeout=30), -signal.SIGSEGV)
            found = slurm_cluster.core_dumps(folder)
            if not found and pattern not in ("core", "core.%p"):
                self.skipTest(f"no core written (core_pattern {pattern!r})")
            self.assertEqual(len(found), 1, os.listdir(os.path.join(folder, "run")))
            header = slurm_cluster.core_header(found[0])
            self.assertEqual((header["program"], header["pid"], header["signal"]),
                             ("sleep", sleeper.pid, signal.SIGSEGV))
            text = describe_core(found[0])
            self.assertIn(f"core of 'sleep 60' (pid {sleeper.pid}), killed by SIGSEGV", text)
            if shutil.which("gdb"):
                self.assertRegex(text, r"\n  #0 ")
            self.assertEqual(slurm_cluster.core_dumps(os.path.join(folder, "core")), [])


if __name__ == "__main__":
    unittest.main()
