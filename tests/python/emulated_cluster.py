"""A private SLURM cluster of several emulated nodes on this one machine, for tests of what only
more than one host shows: MPI over TCP between hosts, a lock held on another node, a node lost
mid-job.

Each node is a set of Linux namespaces, as a host of a real cluster would be its own machine:
- a network namespace with one interface (eth0: one end of a veth pair whose other end is on a
  private bridge) and an address of a private test subnet that exists only on this machine
  (10.x.y.0/24, chosen among those no route of the machine uses);
- a UTS namespace (its own hostname, node1, node2, …) and a PID namespace (its own process ids,
  so that a pid recorded on one node means nothing on another), whose first process is this
  module's node init: it starts slurmd and reaps orphans; killing it kills everything on the node
  at once, as a power loss does;
- a mount namespace with its own /tmp and /etc/hosts (the nodes and the controller by name); the
  rest of the filesystem is shared, so the test's folder (the cluster's files, the stores) is the
  cluster's shared filesystem, at the same path on every node.
slurmctld and munged run on the machine itself (the controller host), reached from the nodes at
the bridge's address. Clients (sbatch, squeue, …) run on the machine with cluster.env, or on a
node with cluster.on_node(NODE, argv).

    with EmulatedCluster(folder) as cluster:
        cluster.client("sbatch", "-N", "2", ...)

stop() (also on any failure of start) cancels the jobs, stops the nodes (SIGTERM to slurmd, then
SIGKILL to the node), slurmctld and munged, and removes every namespace, interface and file it
made in /run/netns. leftovers() lists what of this cluster is still there (none after stop).

Needs root, iproute2 (ip), util-linux (unshare, nsenter, mount) and the kernel's network, UTS,
PID and mount namespaces, veth and bridge; prerequisites_missing() says what is missing.
"""

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time

from slurm_cluster import SlurmCluster, SlurmError, find_program

NODE_PROGRAMS = ("ip", "unshare", "nsenter", "mount")


def _run(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=60)


def prerequisites_missing():
    """Why emulated nodes cannot be made here (a list of reasons; [] when they can)."""
    missing = [f"{p} is not installed" for p in NODE_PROGRAMS if find_program(p) is None]
    if os.geteuid() != 0:
        missing.append("not root (network namespaces, bridges and mounts need root)")
    if missing:
        return missing
    probe = f"ssldyn-probe-{os.getpid()}"
    try:
        made = _run(find_program("ip"), "netns", "add", probe, check=False)
        if made.returncode != 0:
            return [f"`ip netns add` fails: {made.stderr.strip()}"]
        for argv, what in (
                ([find_program("ip"), "link", "add", f"sdprobe{os.getpid() % 10**6}", "type",
                  "bridge"], "a bridge"),
                ([find_program("unshare"), "--uts", "--pid", "--fork", "--mount-proc",
                  "true"], "UTS, PID and mount namespaces (unshare)")):
            result = _run(*argv, check=False)
            if result.returncode != 0:
                missing.append(f"cannot make {what}: {result.stderr.strip()}")
    finally:
        _run(find_program("ip"), "link", "del", f"sdprobe{os.getpid() % 10**6}", check=False)
        _run(find_program("ip"), "netns", "del", probe, check=False)
    return missing


def _free_subnet():
    """A /24 of 10.0.0.0/8 that no address or route of this machine touches."""
    used = []
    for argv in (("route", "show", "table", "all"), ("-o", "addr", "show")):
        out = _run(find_program("ip"), *argv, check=False).stdout
        for word in out.split():
            try:
                used.append(ipaddress.ip_network(word.split("/")[0] if "/" not in word else word,
                                                 strict=False))
            except ValueError:
                pass
    for i in range(os.getpid() % 200, os.getpid() % 200 + 200):
        candidate = ipaddress.ip_network(f"10.{213 + i // 256 % 40}.{i % 256}.0/24")
        if not any(candidate.overlaps(u) for u in used if u.version == 4 and u.prefixlen > 0):
            return candidate
    raise SlurmError("no free private /24 in 10.213.0.0/16 … for the emulated cluster")


class EmulatedCluster(SlurmCluster):
    def __init__(self, folder, nodes=2, shared=None, visible=()):
        """folder: the cluster's files (as SlurmCluster). shared: the folder every node sees at
        the same path (the cluster's shared filesystem; default: folder itself), which must
        hold folder. visible: other folders the nodes must see where they are although they
        lie under /tmp (the program and its job scripts; this repository always)."""
        super().__init__(folder)
        self.shared = os.path.abspath(shared or self.dir)
        if os.path.commonpath([self.shared, self.dir]) != self.shared:
            raise ValueError(f"{self.dir} is not inside the shared folder {self.shared}")
        repository = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.visible = [self.shared, repository, *(os.path.abspath(v) for v in visible)]
        self.nodes = [f"node{i + 1}" for i in range(nodes)]
        tag = os.getpid()
        self.tag = f"ssldyn-{tag}"
        self.bridge = f"sdb{tag}"[:15]
        self.netns = {n: f"{self.tag}-{n}" for n in self.nodes}
        self.veth = {n: f"sdv{tag}n{i + 1}"[:15] for i, n in enumerate(self.nodes)}
        self.subnet = None
        self.address = {}
        self.node_pid = {}  # node -> pid (on this machine) of its unshare process
        self._node_popen = {}
        self.slurmd_files = "-%n"
        self.tmp_fs = "/tmp"  # node-private (each node's /tmp is its own)
        # A node that stops answering is down after 6 s (pinged every 2 s): a power loss is
        # seen within seconds, and its jobs requeued.
        # (a ping to a node that does not answer gives up after MessageTimeout).
        self.extra_conf = "SlurmdTimeout=6\nMessageTimeout=5\nJobRequeue=1\n"
        self.mpi_env = {}

    # -- network -------------------------------------------------------------------------------
    def _ip(self, *args, netns=None, check=True):
        argv = [find_program("ip")] + (["-n", netns] if netns else []) + list(args)
        result = _run(*argv, check=False)
        if check and result.returncode != 0:
            raise SlurmError(f"ip {' '.join(argv[1:])}: {result.stderr.strip()}")
        return result

    def _make_network(self):
        self.subnet = _free_subnet()
        hosts = list(self.subnet.hosts())
        self.controller_address = str(hosts[0])
        self.address = {n: str(hosts[10 + i]) for i, n in enumerate(self.nodes)}
        prefix = self.subnet.prefixlen
        self._record("bridge", self.bridge)
        self._ip("link", "add", self.bridge, "type", "bridge")
        self._ip("addr", "add", f"{self.controller_address}/{prefix}", "dev", self.bridge)
        self._ip("link", "set", self.bridge, "up")
        for n in self.nodes:
            self._record("netns", self.netns[n])
            self._ip("netns", "add", self.netns[n])
            self._record("veth", self.veth[n])
            peer = f"{self.veth[n]}p"[:15]
            self._ip("link", "add", self.veth[n], "type", "veth", "peer", "name", peer)
            self._ip("link", "set", peer, "netns", self.netns[n])
            self._ip("link", "set", peer, "name", "eth0", netns=self.netns[n])
            self._ip("addr", "add", f"{self.address[n]}/{prefix}", "dev", "eth0",
                     netns=self.netns[n])
            self._ip("link", "set", "eth0", "up", netns=self.netns[n])
            self._ip("link", "set", "lo", "up", netns=self.netns[n])
            self._ip("link", "set", self.veth[n], "master", self.bridge)
            self._ip("link", "set", self.veth[n], "up")
        # Open MPI between the nodes: TCP on the private subnet only (its out-of-band channel
        # too); shared memory within a node. One-sided windows (ssldyn's work counters) through
        # osc/pt2pt: osc/rdma makes none over TCP.
        self.mpi_env = {"OMPI_MCA_btl": "self,vader,tcp", "OMPI_MCA_osc": "sm,pt2pt",
                        "OMPI_MCA_btl_tcp_if_include": str(self.subnet),
                        "OMPI_MCA_oob_tcp_if_include": str(self.subnet)}
        self.env.update(self.mpi_env)

    def _record(self, kind, name):
        """Notes what is about to be made, so that stop() (in this process or a later one)
        removes it even if start fails half-way."""
        with open(os.path.join(self.dir, "made"), "a") as f:
            f.write(f"{kind} {name}\n")

    def _made(self):
        path = os.path.join(self.dir, "made")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [tuple(line.split()) for line in f if line.strip()]

    # -- nodes ---------------------------------------------------------------------------------
    def _node_lines(self, line):
        nodes = "".join(f"NodeName={n} NodeAddr={self.address[n]} {self.node_line} "
                        "State=UNKNOWN\n" for n in self.nodes)
        return nodes + (f"PartitionName=test Nodes={','.join(self.nodes)} Default=YES "
                        "MaxTime=INFINITE State=UP\n")

    def _write_files(self):
        os.makedirs(self.dir, exist_ok=True)
        self._make_network()
        super()._write_files()
        self.node = ",".join(self.nodes)
        lines = ["127.0.0.1 localhost",
                 f"{self.controller_address} {socket.gethostname().split('.')[0]}"]
        lines += [f"{self.address[n]} {n}" for n in self.nodes]
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write("\n".join(lines) + "\n")
        for n in self.nodes:
            os.makedirs(os.path.join(self.dir, "nodes", n, "tmp"), exist_ok=True)
            os.chmod(os.path.join(self.dir, "nodes", n, "tmp"), 0o1777)

    def _start_nodes(self, timeout):
        for n in self.nodes:
            self.start_node(n)
        for n in self.nodes:
            self._wait(lambda: self._node_idle(n), timeout, f"node {n} to be idle")

    def start_node(self, node):
        """Boots a node: its namespaces, then slurmd in them (as a node powered on)."""
        argv = [find_program("nsenter"), f"--net=/run/netns/{self.netns[node]}", "--",
                find_program("unshare"), "--uts", "--pid", "--fork", "--mount-proc",
                "--kill-child", "--", sys.executable, os.path.abspath(__file__), "node-init",
                node, self.dir, os.pathsep.join(self.visible), "--", find_program("slurmd"), "-D", "-f", self.conf,
                "-N", node]
        log = open(os.path.join(self.dir, "log", f"{node}.out"), "ab")
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, env=self.env, cwd=self.cores)
        finally:
            log.close()
        self.node_pid[node] = process.pid
        self._node_popen[node] = process
        with open(self.pid_file, "a") as f:
            f.write(f"{node} {process.pid}\n")

    def power_off(self, node):
        """A power loss: the node's link cut (nothing it had open is closed in good order: its
        peers hear nothing more), then every process of it killed at once (SIGKILL to its first
        process: the kernel kills the rest of its PID namespace with it), slurmd, job steps and
        ranks alike. The network namespace stays, for power_on."""
        self._ip("link", "set", self.veth[node], "down")
        process = self._node_popen.pop(node)
        process.kill()
        process.wait(timeout=30)
        deadline = time.time() + 30
        while self.node_processes(node) and time.time() < deadline:
            time.sleep(0.05)
        self._forget_pid(node)

    def power_on(self, node, timeout=60):
        """Boots a node that was powered off, and waits until SLURM has it back (idle)."""
        if node in self._node_popen:
            return
        self._ip("link", "set", self.veth[node], "up")
        self.start_node(node)
        self._wait(lambda: self._node_idle(node), timeout, f"node {node} to be idle again")

    def node_processes(self, node):
        """Pids (on this machine) of the processes in the node's network namespace."""
        result = self._ip("netns", "pids", self.netns[node], check=False)
        return [int(p) for p in result.stdout.split()] if result.returncode == 0 else []

    def on_node(self, node, argv, **kwargs):
        """Runs argv on the node (its network, hostname, processes and /tmp), as a login
        there would; kwargs as subprocess.run's."""
        init = self._init_pid(node)
        if init is None:
            raise SlurmError(f"{node} is not running")
        enter = [find_program("nsenter"), "-t", str(init), "--net", "--uts", "--pid", "--mount",
                 "--"]
        kwargs.setdefault("env", self.env)
        kwargs.setdefault("cwd", self.shared)
        return subprocess.run(enter + list(argv), **kwargs)

    def _init_pid(self, node):
        """The node's first process (its PID 1), as this machine numbers it."""
        pid = self.node_pid.get(node)
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def _forget_pid(self, name):
        if not os.path.exists(self.pid_file):
            return
        with open(self.pid_file) as f:
            lines = [line for line in f if line.split()[0] != name]
        with open(self.pid_file, "w") as f:
            f.writelines(lines)

    # -- stop ----------------------------------------------------------------------------------
    def stop(self, timeout=20):
        """Jobs cancelled, nodes stopped (slurmd asked first, then every process killed),
        slurmctld and munged stopped, the network removed. Safe to call twice, and from
        another process (the pid file and FOLDER/made say what to remove)."""
        pids = self._recorded_pids()
        self._cancel_jobs(pids, timeout)
        for node in self.nodes:
            pid = pids.pop(node, None)
            if pid is None:
                continue
            self.node_pid.setdefault(node, pid)
            init = self._init_pid(node)
            if init is not None:
                try:
                    os.kill(init, signal.SIGTERM)  # the node init stops slurmd, then exits
                except ProcessLookupError:
                    pass
            process = self._node_popen.pop(node, None)
            deadline = time.time() + 10
            while time.time() < deadline and (process.poll() is None if process else
                                              os.path.exists(f"/proc/{pid}")):
                time.sleep(0.05)
            try:
                os.kill(pid, signal.SIGKILL)  # --kill-child: the node's processes with it
            except ProcessLookupError:
                pass
            if process:
                process.wait(timeout=30)
            self._forget_pid(node)
            self.node_pid.pop(node, None)
        super().stop(timeout)
        for kind, name in reversed(self._made()):
            if kind == "netns":
                deadline = time.time() + 30
                while self.node_processes_in(name) and time.time() < deadline:
                    time.sleep(0.05)
                self._ip("netns", "del", name, check=False)
            else:
                self._ip("link", "del", name, check=False)
        made = os.path.join(self.dir, "made")
        if os.path.exists(made):
            os.remove(made)

    def node_processes_in(self, netns):
        result = self._ip("netns", "pids", netns, check=False)
        return result.stdout.split() if result.returncode == 0 else []

    def leftovers(self):
        """What of this cluster is still there: namespaces, interfaces, processes."""
        out = []
        namespaces = self._ip("netns", "list", check=False).stdout
        out += [f"network namespace {ns}" for ns in self.netns.values() if ns in namespaces]
        links = self._ip("-o", "link", "show", check=False).stdout
        out += [f"interface {name}" for name in (self.bridge, *self.veth.values())
                if f" {name}:" in links or f" {name}@" in links]
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if self.dir in command:
                out.append(f"process {pid}: {command.strip()}")
        return out


def node_init(node, folder, visible, argv):
    """The first process of an emulated node (PID 1 of its namespace): names the host, gives it
    its own /tmp (with the shared folder and the others in `visible`, joined by os.pathsep,
    still at their paths) and /etc/hosts, runs argv (slurmd) and reaps every orphan until it
    ends; SIGTERM is passed on to it."""
    socket.sethostname(node)
    node_tmp = os.path.join(folder, "nodes", node, "tmp")

    def mount(*args):
        subprocess.run([find_program("mount"), *args], check=True)
    mount("--make-rprivate", "/")
    for path in visible.split(os.pathsep):
        if os.path.commonpath([path, "/tmp"]) == "/tmp":
            # A folder under /tmp every node sees: again at its path inside the node's /tmp.
            inside = os.path.join(node_tmp, os.path.relpath(path, "/tmp"))
            os.makedirs(inside, exist_ok=True)
            mount("--bind", path, inside)
    mount("--rbind", node_tmp, "/tmp")
    mount("--bind", os.path.join(folder, "hosts"), "/etc/hosts")
    child = subprocess.Popen(argv)
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    status = 0
    while True:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(code)
            child.returncode = status
            break
    return status if status >= 0 else 128 - status


def main(argv):
    if len(argv) >= 6 and argv[1] == "node-init" and argv[5] == "--":
        return node_init(argv[2], argv[3], argv[4], argv[6:])
    if len(argv) == 3 and argv[1] in ("start", "stop"):
        cluster = EmulatedCluster(argv[2])
        cluster.new_session = True
        if argv[1] == "start":
            cluster.start()
            print(f"export SLURM_CONF={cluster.conf}  # the nodes share {cluster.shared} alone")
            for key, value in cluster.mpi_env.items():
                print(f"export {key}={value}")
        else:
            cluster.nodes = [line.split()[1].rsplit("-", 1)[1]
                             for line in open(os.path.join(cluster.dir, "made"))
                             if line.startswith("netns")] if os.path.exists(
                os.path.join(cluster.dir, "made")) else cluster.nodes
            cluster.stop()
        return 0
    print("usage: emulated_cluster.py start|stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
