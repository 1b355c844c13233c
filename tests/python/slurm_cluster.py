"""A private single-node SLURM cluster for tests: its own munge key and munged, its own
slurm.conf, slurmctld and slurmd, all under one folder, on free ports of 127.0.0.1.

    with SlurmCluster(folder) as cluster:      # or cluster.start() ... cluster.stop()
        subprocess.run(["sbatch", ...], env=cluster.env)

Every client needs SLURM_CONF (cluster.env has it; without it the clients look for the site's
slurm.conf and its controller). The daemons are stopped by the process ids this module started,
never by name, after every job of the cluster is cancelled and gone.

The daemons and clients run in FOLDER/cores: slurmctld and slurmd raise their core-size limit to
the hard limit, and slurmstepd inherits slurmd's folder, so with the kernel's usual relative
core_pattern a core dump lands there, never in the caller's folder. core_dumps() finds them and
describe_core() says which program died of which signal, and where (gdb's backtrace when gdb is
installed, else only the core's own header).

From a shell (the daemons then outlive this script; stop them with `stop`):

    python3 tests/python/slurm_cluster.py start DIR    # prints: export SLURM_CONF=DIR/slurm.conf
    python3 tests/python/slurm_cluster.py stop DIR
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

DAEMONS = ("munged", "slurmctld", "slurmd")  # in start order; stopped in reverse
PROGRAMS = {"munged": "munged", "mungekey": "mungekey", "slurmctld": "slurmctld",
            "slurmd": "slurmd", "sbatch": "sbatch", "squeue": "squeue", "scontrol": "scontrol",
            "scancel": "scancel", "sinfo": "sinfo", "srun": "srun"}
SBIN = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")


class SlurmError(RuntimeError):
    pass


def find_program(name):
    """The program's path (daemons live in sbin, which a user's PATH may lack), or None."""
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return path
    return None


def missing_programs():
    return [name for name in PROGRAMS.values() if find_program(name) is None]


def free_ports(count):
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _alive(pid, name):
    """True while process pid runs the daemon `name` (a zombie or a reused pid does not count).
    For a process started by another one (`stop` from the command line)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            comm, rest = f.read().split(" (", 1)[1].rsplit(")", 1)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return False
    if rest.split()[0] == "Z":
        return False
    # Within execve the command line can be empty for a moment; the name follows right after.
    return not argv0 or os.path.basename(argv0) == name or comm == name[:15]


CORE_NAME = re.compile(r"^core(\.\d+)?$")  # the names a relative core_pattern gives
FAULTS = (signal.SIGILL, signal.SIGBUS, signal.SIGFPE, signal.SIGSEGV)  # with a fault address


def _elf_notes(data):
    """(type, description) of the notes of an ELF64 little-endian core file; [] for any other
    file."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    e_type, = struct.unpack_from("<H", data, 16)
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if e_type != 4:  # ET_CORE
        return []
    notes = []
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data,
                                                                 phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        at, end = p_offset, min(p_offset + p_filesz, len(data))
        while at + 12 <= end:
            namesz, descsz, n_type = struct.unpack_from("<III", data, at)
            desc = at + 12 + (namesz + 3) // 4 * 4
            notes.append((n_type, data[desc:desc + descsz]))
            at = desc + (descsz + 3) // 4 * 4
    return notes


def is_core_dump(path):
    """Whether path is an ELF core file."""
    try:
        with open(path, "rb") as f:
            head = f.read(18)
    except OSError:
        return False
    return len(head) == 18 and head[:4] == b"\x7fELF" and struct.unpack_from("<H", head, 16)[0] == 4


def core_header(path):
    """What a core file's notes say: program (16 characters at most), command, pid, signal and,
    for a fault, address."""
    with open(path, "rb") as f:
        data = f.read()
    out = {}
    for n_type, desc in _elf_notes(data):
        if n_type == 3 and len(desc) >= 136:  # NT_PRPSINFO (x86-64 layout)
            out["pid"], = struct.unpack_from("<i", desc, 24)
            out["program"] = desc[40:56].split(b"\0")[0].decode(errors="replace")
            out["command"] = desc[56:136].split(b"\0")[0].decode(errors="replace").strip()
        elif n_type == 0x53494749 and len(desc) >= 24:  # NT_SIGINFO: signo, errno, code, addr
            out["signal"], = struct.unpack_from("<i", desc, 0)
            out["address"], = struct.unpack_from("<Q", desc, 16)
        elif n_type == 1 and len(desc) >= 4:  # NT_PRSTATUS, where there is no NT_SIGINFO
            out.setdefault("signal", struct.unpack_from("<i", desc, 0)[0])
    return out


def describe_core(path, frames=12):
    """Lines on a core file: the program, the signal that killed it and the fault address, from
    the core's header; then gdb's backtrace of the crashing thread when gdb is installed."""
    header = core_header(path)
    try:
        killed = signal.Signals(header.get("signal")).name
    except ValueError:
        killed = f"signal {header.get('signal')}"
    at = f" at address {header['address']:#x}" if header.get("signal") in FAULTS else ""
    lines = [f"{path}: core of '{header.get('command') or header.get('program', '?')}' "
             f"(pid {header.get('pid', '?')}), killed by {killed}{at}"]
    program = find_program(header["program"]) if header.get("program") else None
    gdb = shutil.which("gdb")
    if gdb and program:
        try:
            result = subprocess.run([gdb, "-batch", "-nx", "-ex", "bt", program, path],
                                    capture_output=True, text=True, timeout=120)
            trace = [line for line in result.stdout.splitlines() if line.startswith("#")]
            starts = [i for i, line in enumerate(trace) if line.startswith("#0 ")]
            # gdb shows frame #0 once on loading the core, then the backtrace.
            lines += ["  " + line for line in trace[starts[-1] if starts else 0:][:frames]]
        except (OSError, subprocess.SubprocessError):
            pass
    else:
        lines.append("  (no backtrace: " + ("gdb is not installed" if not gdb else
                                             f"{header.get('program')} not found") + ")")
    return "\n".join(lines)


def core_dumps(folder):
    """Core files (named core or core.NUMBER, ELF cores) anywhere under folder."""
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in sorted(files)
                  if CORE_NAME.match(f) and is_core_dump(os.path.join(root, f))]
    return found


class SlurmCluster:
    def __init__(self, folder, new_session=False):
        """folder: where everything lives (created; should be empty or a stopped cluster's).
        new_session: start the daemons in a session of their own (so that they outlive the
        caller's terminal); by default they stay in the caller's process group, so that a test
        runner that kills the test's process tree takes them along."""
        self.dir = os.path.abspath(folder)
        self.new_session = new_session
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.munge_socket = os.path.join(self.dir, "munge", "munge.socket")
        self.pid_file = os.path.join(self.dir, "daemons.pid")
        # The working folder of the daemons and clients started here, where core dumps land.
        self.cores = os.path.join(self.dir, "cores")
        self._cores_seen = set()
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.node = None
        self.cpus = None
        self._processes = {}  # name -> pid
        self._popen = {}  # name -> Popen, to reap what this process started

    # -- start -------------------------------------------------------------------------------
    def start(self, timeout=30):
        missing = missing_programs()
        if missing:
            raise SlurmError("SLURM is not installed (missing " + ", ".join(missing) +
                             "): install the Debian packages munge slurmctld slurmd "
                             "slurm-client (cmake/setup.sh deps does)")
        try:
            self._write_files()
            self._start_daemon("munged", [
                find_program("munged"), "--foreground", "--socket=" + self.munge_socket,
                "--key-file=" + os.path.join(self.dir, "munge-key", "munge.key"),
                "--log-file=" + os.path.join(self.dir, "log", "munged.log"),
                "--pid-file=" + os.path.join(self.dir, "run", "munged.pid"),
                "--seed-file=" + os.path.join(self.dir, "state", "munged.seed")])
            self._wait(lambda: os.path.exists(self.munge_socket), timeout, "munged's socket")
            self._start_daemon("slurmctld", [find_program("slurmctld"), "-D", "-c", "-f",
                                             self.conf])
            self._wait(self._controller_answers, timeout, "slurmctld to answer")
            self._start_nodes(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_nodes(self, timeout):
        self._start_daemon("slurmd", [find_program("slurmd"), "-D", "-f", self.conf, "-N",
                                      self.node])
        self._wait(lambda: self._node_idle(self.node), timeout, f"node {self.node} to be idle")

    # What a cluster of other nodes changes (emulated_cluster.py): where the controller listens,
    # the node and partition lines, and per-node slurmd files (%n: the node's name).
    controller_address = "127.0.0.1"
    slurmd_files = ""
    tmp_fs = None  # the job steps' scratch; None: FOLDER/tmp
    extra_conf = ""

    def _node_lines(self, line):
        return (f"{line} NodeAddr=127.0.0.1 State=UNKNOWN\n"
                f"PartitionName=test Nodes={self.node} Default=YES MaxTime=INFINITE State=UP\n")

    def _write_files(self):
        for sub, mode in (("", 0o755), ("munge-key", 0o700), ("munge", 0o755), ("log", 0o755),
                          ("run", 0o755), ("state", 0o755), ("spool", 0o755), ("tmp", 0o1777),
                          ("cores", 0o755)):
            path = os.path.join(self.dir, sub)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
        key = os.path.join(self.dir, "munge-key", "munge.key")
        if not os.path.exists(key):
            subprocess.run([find_program("mungekey"), "-c", "-k", key], check=True,
                           capture_output=True)
        os.chmod(key, 0o400)
        # The node as slurmd sees it (first line: NodeName=… CPUs=… … RealMemory=…).
        line = subprocess.run([find_program("slurmd"), "-C"], check=True, capture_output=True,
                              text=True).stdout.splitlines()[0]
        fields = dict(f.split("=", 1) for f in line.split())
        self.node, self.cpus = fields["NodeName"], int(fields["CPUs"])
        self.node_line = " ".join(f for f in line.split() if not f.startswith("NodeName="))
        ctld_port, slurmd_port = free_ports(2)
        host = socket.gethostname().split(".")[0]
        d = self.dir
        text = f"""# A private single-node cluster (written by {os.path.basename(__file__)}).
ClusterName=ssldyntest
SlurmctldHost={host}({self.controller_address})
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool{self.slurmd_files and '/%n'}
# Job steps' scratch (srun's PMIx puts /tmp/spmix_appdir_UID_JOB.STEP there): private, as job
# ids repeat across clusters.
TmpFS={self.tmp_fs or d + '/tmp'}
SlurmctldPidFile={d}/run/slurmctld.pid
SlurmdPidFile={d}/run/slurmd{self.slurmd_files}.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd{self.slurmd_files}.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=600
KillWait=5
ReturnToService=2
MailProg=/bin/true
{self.extra_conf}{self._node_lines(line)}"""
        with open(self.conf, "w") as f:
            f.write(text)

    def _start_daemon(self, name, argv):
        log = open(os.path.join(self.dir, "log", name + ".out"), "ab")
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, env=self.env, cwd=self.cores,
                                       start_new_session=self.new_session)
        finally:
            log.close()
        self._processes[name] = process.pid
        self._popen[name] = process
        with open(self.pid_file, "a") as f:
            f.write(f"{name} {process.pid}\n")

    def _running(self, name, pid):
        process = self._popen.get(name)
        if process is not None and process.pid == pid:
            return process.poll() is None  # started here: its own exit status says
        return _alive(pid, name)

    def _wait(self, ready, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, pid in self._processes.items():
                if not self._running(name, pid):
                    raise SlurmError(f"{name} stopped while waiting for {what}; see "
                                     f"{self.dir}/log/{name}.out and {name}.log:\n" +
                                     self.log_tail(name))
            if ready():
                return
            time.sleep(0.05)
        raise SlurmError(f"timed out after {timeout} s waiting for {what}; logs in {self.dir}/log")

    def _controller_answers(self):
        return self.client("scontrol", "ping", check=False).returncode == 0

    def _node_idle(self, node):
        result = self.client("sinfo", "-h", "-n", node, "-o", "%T", check=False)
        return result.returncode == 0 and result.stdout.strip().rstrip("*") == "idle"

    def log_tail(self, name, lines=30):
        out = []
        for suffix in (".out", ".log"):
            path = os.path.join(self.dir, "log", name + suffix)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out += f.read().splitlines()[-lines:]
        return "\n".join(out)

    def new_core_dumps(self, *folders):
        """Core files under the cluster's folder (daemons, job steps) and the folders given (jobs'
        working folders) not returned before."""
        found = [path for folder in (self.dir, *folders) for path in core_dumps(folder)
                 if path not in self._cores_seen]
        self._cores_seen.update(found)
        return found

    # -- clients -----------------------------------------------------------------------------
    def client(self, program, *args, check=True, timeout=60, env=None):
        return subprocess.run([find_program(PROGRAMS[program]), *args], env=env or self.env,
                              cwd=self.cores if os.path.isdir(self.cores) else None,
                              capture_output=True, text=True, check=check, timeout=timeout)

    def job_ids(self):
        """Every job the controller still runs or keeps pending (array tasks included)."""
        result = self.client("squeue", "-h", "-r", "-o", "%i", check=False)
        return result.stdout.split() if result.returncode == 0 else []

    def show_jobs(self, job_id):
        """`scontrol show job` as dicts (JobState, ExitCode, Restarts, …), one per array task;
        [] for an unknown job."""
        result = self.client("scontrol", "-o", "show", "job", str(job_id), check=False)
        out = []
        for line in result.stdout.splitlines() if result.returncode == 0 else []:
            fields = {}
            for token in line.split():
                if "=" in token:
                    key, value = token.split("=", 1)
                    fields.setdefault(key, value)
            if fields:
                out.append(fields)
        return out

    # -- stop --------------------------------------------------------------------------------
    def _cancel_jobs(self, pids, timeout):
        """Every job cancelled and waited for (up to timeout), while slurmctld still runs."""
        if pids.get("slurmctld") and self._running("slurmctld", pids["slurmctld"]):
            try:
                jobs = self.job_ids()
                if jobs:
                    self.client("scancel", "--full", *jobs, check=False, timeout=30)
                deadline = time.time() + timeout
                while self.job_ids() and time.time() < deadline:
                    time.sleep(0.1)
            except (OSError, subprocess.SubprocessError):
                pass

    def stop(self, timeout=20):
        """Cancel every job, wait until they are gone, stop slurmd, slurmctld and munged by
        the process ids started here (SIGTERM, SIGKILL after timeout). Safe to call twice."""
        pids = self._recorded_pids()
        if not pids:
            return
        self._cancel_jobs(pids, timeout)
        for name in reversed(DAEMONS):
            pid = pids.get(name)
            if pid is None:
                continue
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not self._running(name, pid):
                    break
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.time() + timeout
                while self._running(name, pid) and time.time() < deadline:
                    time.sleep(0.05)
        if os.path.exists(self.pid_file):
            os.remove(self.pid_file)
        self._processes = {}
        self._popen = {}

    def _recorded_pids(self):
        pids = dict(self._processes)
        if os.path.exists(self.pid_file):
            with open(self.pid_file) as f:
                for line in f:
                    name, pid = line.split()
                    pids.setdefault(name, int(pid))
        return pids

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__.split("From a shell")[1].split("\n", 1)[1].rstrip(), file=sys.stderr)
        return 2
    cluster = SlurmCluster(argv[2], new_session=True)
    if argv[1] == "start":
        cluster.start()
        print(f"export SLURM_CONF={cluster.conf}")
    else:
        cluster.stop()
        for path in cluster.new_core_dumps():
            print(describe_core(path), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
