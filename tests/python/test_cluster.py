"""Jobs across the two nodes of an emulated SLURM cluster (emulated_cluster.py: each node its own
network, hostname, processes and /tmp; TCP between them over a private bridge; the test's
folder as the shared filesystem), submitted with jobs/sweep.slurm, jobs/submit-sharded.sh and
jobs/merge.slurm as they are:
- a sweep on two nodes equals the sweep on one, bit for bit: runs on either node, run groups
  spanning the nodes (ScaLAPACK grids across them) and groups within one;
- a lock held by a job on node1 refuses a job on node2 and a sweep on the controller host;
  once SLURM says the job is gone, the next job takes the store without --break-lock;
- the shards of a job array, written on different nodes, merge into the whole sweep;
- a node lost mid-job (its network cut and every process of it killed at once): SLURM requeues
  the job (or, lost while the job was launching its ranks, the job fails and is submitted again),
  which resumes on the surviving node; no done run lost, the final store equal to an
  uninterrupted sweep's.
At the end, the cluster is stopped and nothing of it may be left: no namespace, interface or
process.

The node loss is tried once (srun, after a run is done); SSLDYN_CLUSTER_LONG=1 tries it also at
9 random moments of the job (mpirun; SSLDYN_NODE_LOSS_TRIALS=N: N trials in all,
SSLDYN_NODE_LOSS_SEED the moments), about 40 s each.

Needs SLURM (as test_slurm.py: a failure without it, unless SSLDYN_SKIP_SLURM=1), and root with
network, UTS, PID and mount namespaces, veth and bridges (iproute2, util-linux): skipped, naming
what is missing, without them.
"""

import atexit
import os
import random
import signal
import subprocess
import tempfile
import time
import unittest

import h5py
import numpy as np

from emulated_cluster import EmulatedCluster, prerequisites_missing
from slurm_cluster import missing_programs
import test_slurm  # its helpers; `from` would bring its tests into this module too
from test_slurm import BIN, LONG, WAIT, differences, store_contents
from test_sweep import ENV, MPIEXEC, SMALL

NODES = ("node1", "node2")
SPREAD = "--distribute-above 0 --block-size 5 -q"  # every matrix of a run over its group
# Half of test_slurm's LONG (8 runs of 0.1-0.5 s on an idle core): long enough for a lock to be
# seen held and for a node to be lost with some runs done and some not.
HALF_LONG = LONG.replace("seed = 1, 2", "seed = 1").replace("steps = 40000", "steps = 20000")
# Four of SMALL's runs, shorter, for the spread sweeps: every step of a spread run is a few
# dozen small messages, over TCP between the nodes.
SPREAD_SMALL = SMALL.replace("dynamics = naive, sphere, orthogonal",
                             "dynamics = sphere, orthogonal").replace(
    "loss = noncontrastive, contrastive", "loss = contrastive").replace(
    "seed = 1, 2", "seed = 1").replace("steps = 300", "steps = 120")


def node_loss_trials():
    if os.environ.get("SSLDYN_NODE_LOSS_TRIALS"):
        return int(os.environ["SSLDYN_NODE_LOSS_TRIALS"])
    return 10 if os.environ.get("SSLDYN_CLUSTER_LONG") == "1" else 1


class ClusterJobsTest(unittest.TestCase):
    cluster = None
    long_expected = None

    # The single-node tests' helpers, as they are (they use cls.cluster, cls.tmp, cls.work).
    for _name in ("say", "write", "local_sweep", "sbatch", "wait_gone", "state", "log",
                  "diagnostics", "assert_completed", "assert_same_store", "report_core_dumps",
                  "done_runs", "wait_for_done_runs", "long_reference", "clean_up", "tearDown"):
        locals()[_name] = test_slurm.SlurmJobsTest.__dict__[_name]
    del _name

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
        reasons = prerequisites_missing()
        if reasons:
            raise unittest.SkipTest("cannot emulate cluster nodes here: " + "; ".join(reasons))
        cls.tmp = tempfile.mkdtemp(prefix="ssldyn-cluster-")
        os.chmod(cls.tmp, 0o755)  # munged wants every folder above its socket open to all
        cls.work = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work)
        cls.cluster = EmulatedCluster(os.path.join(cls.tmp, "cluster"), shared=cls.tmp,
                                      visible=(os.path.dirname(os.path.dirname(BIN)),))
        atexit.register(cls.clean_up)
        cls.previous_sigterm = signal.getsignal(signal.SIGTERM)

        def terminated(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")
        signal.signal(signal.SIGTERM, terminated)
        try:
            start = time.time()
            cls.cluster.start()
            cls.say(f"emulated cluster up in {time.time() - start:.2f} s: nodes "
                    f"{', '.join(f'{n} ({a})' for n, a in cls.cluster.address.items())}, "
                    f"controller {cls.cluster.controller_address}, {cls.cluster.dir}")
            cls.small = cls.write("small.ini", SMALL)
            cls.spread_small = cls.write("spread.ini", SPREAD_SMALL)
            cls.long = cls.write("long.ini", HALF_LONG)
            reference = os.path.join(cls.tmp, "reference.h5")
            cls.local_sweep(cls.small, reference)
            cls.expected = store_contents(reference)
        except BaseException:
            cls.clean_up()
            raise

    @classmethod
    def tearDownClass(cls):
        cluster = cls.cluster
        cls.clean_up()
        if cluster is not None:
            left = cluster.leftovers()
            if left:
                raise AssertionError("the emulated cluster left behind: " + "; ".join(left))
            cls.say("nothing of the cluster left: no namespace, interface or process")

    def job_env(self, **settings):
        # Two nodes on this machine's cores: a rank waiting in MPI yields its core rather than
        # spin (4 spinning ranks on 2 cores ran the 4-rank sweep 5 times slower).
        env = dict(ENV, SLURM_CONF=self.cluster.conf, SSLDYN=BIN, **self.cluster.mpi_env,
                   OMPI_MCA_mpi_yield_when_idle="1")
        env.update({k: str(v) for k, v in settings.items()})
        return env

    def hosts(self, store, sweep):
        with h5py.File(store, "r") as f:
            return {h.decode() if isinstance(h, bytes) else str(h)
                    for h in f[f"sweeps/{sweep}/host"][()]}

    @staticmethod
    def command_line(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""

    def node_state(self, node):
        result = self.cluster.client("sinfo", "-h", "-n", node, "-o", "%T", check=False)
        return result.stdout.strip()

    def seconds(self, job):
        """How long a job ran, by SLURM's clock (to the second)."""
        record = self.state(job)
        stamps = [time.mktime(time.strptime(record[k], "%Y-%m-%dT%H:%M:%S"))
                  for k in ("StartTime", "EndTime")]
        return stamps[1] - stamps[0]

    def wait_running(self, job):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            record = self.state(job)
            if record.get("JobState") == "RUNNING":
                return record
            self.assertEqual(record.get("JobState"), "PENDING", self.log(f"ssldyn-sweep-{job}.out"))
            time.sleep(0.05)
        self.fail(f"job {job} did not start:\n{self.diagnostics()}")

    # -- tests ---------------------------------------------------------------------------------
    def test_two_nodes_equal_one(self):
        start = time.time()
        one, span, grouped = ("-N", "1", "-w", "node1", "--ntasks=2"), \
            ("-N", "2", "--ntasks=2", "--ntasks-per-node=1"), \
            ("-N", "2", "--ntasks=4", "--ntasks-per-node=2")
        cases = {
            # name: (sbatch options, settings, equal to)
            "one-node": (one, dict(LAUNCH="mpirun"), None),
            "two-nodes": (span, dict(LAUNCH="mpirun"), "one-node"),
            "one-node-spread": (one, dict(GROUP_SIZE=2, SWEEP_ARGS=SPREAD), None),
            # Each run's group: rank 0 on node1, rank 1 on node2.
            "two-nodes-spread": (span, dict(GROUP_SIZE=2, SWEEP_ARGS=SPREAD), "one-node-spread"),
            # Ranks 0, 1 on node1 and 2, 3 on node2: each group within a node.
            "groups-within-nodes": (grouped, dict(GROUP_SIZE=2, SWEEP_ARGS=SPREAD),
                                    "one-node-spread"),
        }
        configs = {name: self.spread_small if "GROUP_SIZE" in settings else self.small
                   for name, (_, settings, _) in cases.items()}
        jobs = {name: self.sbatch("sweep.slurm", *options, CONFIG=configs[name],
                                  STORE=f"{name}.h5", **settings)
                for name, (options, settings, _) in cases.items()}
        self.wait_gone(*jobs.values())
        stores = {name: os.path.join(self.work, f"{name}.h5") for name in cases}
        for name, job in jobs.items():
            record = self.state(job)
            log = self.log(f"ssldyn-sweep-{job}.out")
            self.assert_completed(record, log)
            runs = 4 if configs[name] == self.spread_small else 24
            self.assertIn(f"{runs} runs, {runs} done, 0 failed", log)
            self.assertEqual(record.get("NodeList"),
                             "node1" if name.startswith("one") else "node[1-2]", name)
        # Plain runs, one rank a run: the local sweep's runs, written by ranks of both nodes.
        self.assert_same_store(self.expected, stores["one-node"], "one node")
        self.assertEqual(self.hosts(stores["one-node"], "grid"), {"node1"})
        self.assertEqual(self.hosts(stores["two-nodes"], "grid"), set(NODES))
        self.assertEqual(self.hosts(stores["groups-within-nodes"], "grid"), set(NODES))
        for name, (_, _, reference) in cases.items():
            if reference:
                wrong = differences(store_contents(stores[reference]),
                                    store_contents(stores[name]))
                self.assertFalse(wrong, f"{name}: {len(wrong)} datasets differ from {reference}"
                                        f"'s, e.g. {wrong[:5]}")
        self.say(f"2-node sweeps equal the 1-node ones ({len(cases)} jobs) in "
                 f"{time.time() - start:.1f} s: " + ", ".join(
                     f"{name} {self.seconds(jobs[name]):.0f} s" for name in cases))

    def test_cross_node_lock(self):
        start = time.time()
        store = os.path.join(self.work, "locked.h5")
        first = self.sbatch("sweep.slurm", "-w", "node1", "--ntasks=1", CONFIG=self.long,
                            STORE=store, LAUNCH="mpirun")
        self.wait_running(first)
        deadline = time.time() + WAIT
        while not os.path.exists(store + ".lock") and time.time() < deadline:
            time.sleep(0.05)
        with open(store + ".lock") as f:
            holder = dict(line.rstrip("\n").split(" ", 1) for line in f if " " in line)
        self.assertEqual((holder["host"], holder["job"]), ("node1", first))
        holder_text = f"in use by process {holder['pid']} on node1, SLURM job {first}"
        # Once its store is in place, the first job's launcher and rank are held still
        # (SIGSTOP): it stays RUNNING for SLURM, holding the lock, however long the refusals
        # below take on a busy machine.
        while not os.path.exists(store) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(store), self.log(f"ssldyn-sweep-{first}.out"))
        doomed = [pid for pid in self.cluster.node_processes("node1")
                  if store in self.command_line(pid)]
        self.assertTrue(doomed, "no process of the first job on node1")
        for pid in doomed:
            os.kill(pid, signal.SIGSTOP)

        # From node2, while the first job runs: refused, naming the holder.
        second = self.sbatch("sweep.slurm", "-w", "node2", "--ntasks=1", CONFIG=self.long,
                             STORE=store, LAUNCH="mpirun")
        self.wait_gone(second)
        log = self.log(f"ssldyn-sweep-{second}.out")
        self.assertEqual(self.state(second).get("ExitCode"), "2:0", log)
        self.assertIn(holder_text, log)
        self.assertIn(f"SLURM says job {first} is RUNNING", log)
        # From the controller host, outside any job: the same.
        here = subprocess.run([BIN, "sweep", self.long, "--store", store, "--resume", "-q"],
                              env=self.job_env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(here.returncode, 2, here.stderr)
        self.assertIn(holder_text, here.stderr)
        self.assertEqual(self.state(first).get("JobState"), "RUNNING",
                         "the first job ended before the refusals were seen")

        # The first job's launcher and rank die without a word (SIGKILL, all at once): the job
        # ends, its lock stays.
        for pid in doomed:
            os.kill(pid, signal.SIGKILL)
        self.wait_gone(first)
        self.assertTrue(os.path.exists(store + ".lock"), self.log(f"ssldyn-sweep-{first}.out"))
        # SLURM says it is gone: the next job, on node2, clears the lock and resumes.
        third = self.sbatch("sweep.slurm", "-w", "node2", "--ntasks=1", CONFIG=self.long,
                            STORE=store, LAUNCH="mpirun")
        self.wait_gone(third)
        log = self.log(f"ssldyn-sweep-{third}.out")
        self.assert_completed(self.state(third), log)
        self.assertNotIn("--break-lock", log)
        self.assertIn("--resume", log)
        self.assertRegex(log, f"cleared the stale lock of process {holder['pid']} on node1, "
                              f"SLURM job {first}, .*SLURM says job {first} is (FAILED|CANCELLED)")
        self.assertIn("8 runs, 8 done, 0 failed", log)
        self.assertFalse(os.path.exists(store + ".lock"))
        self.assert_same_store(self.long_reference(), store, "resumed after a stale lock")
        self.say(f"cross-node lock: refused while job {first} ran on node1, cleared once SLURM "
                 f"said it was gone ({time.time() - start:.1f} s)")

    def test_merge_of_shards_from_two_nodes(self):
        start = time.time()
        # One whole node a shard (--exclusive), both at once: one shard on each node.
        result = subprocess.run(
            [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "jobs",
                          "submit-sharded.sh"), "--ntasks=1", "--exclusive"],
            cwd=self.work, env=self.job_env(SHARDS=2, CONFIG=self.small, STORE="merged.h5",
                                            LAUNCH="mpirun"),
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        array, merge = result.stdout.split()
        self.wait_gone(array, merge)
        tasks = self.cluster.show_jobs(array)
        for task in tasks:
            self.assert_completed(task, self.log(f"ssldyn-shard-{array}_{task['ArrayTaskId']}.out"))
        self.assert_completed(self.state(merge), self.log(f"ssldyn-merge-{merge}.out"))
        hosts = [self.hosts(os.path.join(self.work, f"merged.shard-{i}-of-2.h5"), "grid")
                 for i in range(2)]
        self.assertEqual(sorted(h.pop() for h in hosts if len(h) == 1), list(NODES),
                         f"shards' hosts: {hosts}")
        self.assert_same_store(self.expected, os.path.join(self.work, "merged.h5"),
                               "2 shards of 2 nodes, merged")
        self.say(f"shards written on node1 and node2, merged, in {time.time() - start:.1f} s")

    def test_node_loss_requeue_resume(self):
        expected = self.long_reference()
        rng = random.Random(int(os.environ.get("SSLDYN_NODE_LOSS_SEED", "21")))
        trials = node_loss_trials()
        for trial in range(trials):
            # The first trial waits for a done run; the others kill at a random moment.
            delay = None if trial == 0 else rng.uniform(0.0, 12.0)
            # srun for the loss after a done run; mpirun for the random moments: a loss while
            # srun launches its step can leave the requeued job's srun exiting 0 with no task
            # started (Debian 12's SLURM 22.05: "StepId=J.0 aborted before step completely
            # launched"), and the job script takes that for a finished sweep.
            launch = "srun" if trial == 0 else "mpirun"
            with self.subTest(trial=trial, delay=delay, launch=launch):
                self.lose_a_node(trial, delay, expected, launch)

    def lose_a_node(self, trial, delay, expected, launch):
        start = time.time()
        store = os.path.join(self.work, f"loss-{trial}.h5")
        # One rank on each node while both are up, both ranks on one when only one is.
        submit = ("sweep.slurm", "-N", "1-2", "--ntasks=2", "--spread-job")
        job = self.sbatch(*submit, CONFIG=self.long, STORE=store, CHECKPOINT_EVERY=1,
                          LAUNCH=launch)
        logname = f"ssldyn-sweep-{job}.out"
        self.assertEqual(self.wait_running(job).get("NodeList"), "node[1-2]")
        if delay is None:
            done = self.wait_for_done_runs(job, store)
        else:
            time.sleep(delay)
            done = self.done_runs(store)
        lost = time.time()
        try:
            self.cluster.power_off("node2")
            # SLURM finds node2 gone, ends the job (NODE_FAIL) and requeues it, held until its
            # BeginTime: released 2 s after (see test_slurm.py on the credential). A launch
            # still under way on node2 fails at once, and the job with it, before SLURM has
            # seen the node go: then the job is submitted again once the node is down, as its
            # user would.
            requeued = ended = None
            while time.time() < lost + WAIT:
                record = self.state(job)
                if record.get("Restarts") == "1" and record.get("JobState") == "PENDING":
                    requeued = time.time()
                    break
                if record.get("JobState") not in ("RUNNING", "COMPLETING", "PENDING"):
                    ended = time.time()
                    break
                time.sleep(0.1)
            self.assertTrue(requeued or ended, "neither requeued nor ended:\n" +
                            self.log(logname) + self.diagnostics())
            between = self.done_runs(store)
            if requeued:
                time.sleep(max(0.0, requeued + 2.0 - time.time()))
                self.cluster.client("scontrol", "update", f"jobid={job}", "StartTime=now",
                                    check=False)
                last, restart = job, "1"
            else:
                self.assertIn(record.get("JobState"), ("FAILED", "NODE_FAIL"), self.log(logname))
                self.cluster._wait(lambda: self.node_state("node2").startswith("down"), WAIT,
                                   "node2 to be down")
                last, restart = self.sbatch(*submit, CONFIG=self.long, STORE=store,
                                            CHECKPOINT_EVERY=1, LAUNCH=launch), "0"
            self.wait_gone(last)
        finally:
            self.cluster.power_on("node2")
        final = self.state(last)
        log = self.log(f"ssldyn-sweep-{last}.out")
        self.assert_completed(final, log)
        self.assertEqual((final.get("Restarts"), final.get("NodeList")), (restart, "node1"), log)
        self.assertIn(f"restart {restart} on node1", log)
        if restart == "0":
            # Another job's lock: cleared by ssldyn once SLURM says that job is gone. (A requeued
            # job's script passes --break-lock for a lock of its own job id, from older locks.)
            self.assertNotIn("--break-lock", log)
        self.assertIn("8 runs, 8 done, 0 failed", log)
        # No run done before the loss ran again: its wall time and host are as they were.
        with h5py.File(store, "r") as f:
            result = f["sweeps/preempt"]
            now = {row: (result["seconds"][row], result["host"][row])
                   for row in range(len(result["seconds"]))}
        for row, before in {**done, **between}.items():
            self.assertEqual(now[row], before, f"run {row}, done before the loss, ran again")
        self.assert_same_store(expected, store, f"node lost, requeued, resumed (trial {trial})")
        how = (f"requeued {requeued - lost:.1f} s after" if requeued else
               f"the job failed {ended - lost:.1f} s after and was submitted again")
        self.say(f"node loss {trial}: {len(done)} of 8 runs done at the loss, {len(between)} "
                 f"when {how}; completed on node1, {time.time() - start:.1f} s in all")


if __name__ == "__main__":
    unittest.main()
