"""The catalogue of bad inputs (issue 6): configs, command lines, IDX files, stores of another
schema or truncated, missing and read-only paths, and a full disk (a small tmpfs mount).

Every row of CASES is one bad input: the files it needs (made in a fresh folder, some inside a
tmpfs mounted there), one ssldyn command, the exit code it must end with (2 bad input, 1 a
runtime failure: the full disk, see there, and the numbers that make a run diverge), and what
its message must name. Each case checks that

- the command exits with that code, printing exactly one line of its own on stderr, starting
  with "ssldyn: error:" (exit 2) or "ssldyn: failure:" (exit 1), that names the input, and no
  traceback, crash report or HDF5 error dump;
- every file in the folder, mounts included, has the same SHA-256 afterwards, and no file or
  folder was added (no partial store, lock or report left behind);
- a run that diverges on its numbers (a step size of 1e308, say) is no bad input: the command
  ends with exit code 1 and its store, the one file it adds, holds every run failed with a
  reason (`recorded`), and nothing on stderr of its own;
- it answered within TIME_LIMIT seconds: a bad number or a bad file never makes a command hang
  (a case still running then is killed, with all its processes, and fails).

Read-only and full folders are tmpfs mounts (the tests run as root, whom permission bits do not
stop); where mounting is not permitted those cases are skipped, saying so.

The commands spend most of their time starting MPI, not computing: setUpClass runs the cases
side by side (SSLDYN_BAD_INPUT_WORKERS, default 6), each in a folder of its own, and each test
method checks the outcome of its case.
"""

import gzip
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import traceback
import unittest
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, NamedTuple, Sequence, Tuple, Union

import h5py

from test_cli import idx_images, snapshot

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
MPIEXEC = os.environ.get("SSLDYN_MPIEXEC", "mpirun")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")

# A sweep of two small runs (spiked data, d = 16): the good store every store case starts from.
GOOD = """[sweep]
name = grid
[fixed]
data = spiked
d = 16
n = 200
steps = 20
record_every = 5
[axes]
k = 2, 3
"""
# The same sweep under another name, to add to a store that holds `grid`.
OTHER = GOOD.replace("name = grid", "name = other")
# One run whose store (2001 records of every metric, both sides) takes about 700 KiB: more
# than the 256 KiB tmpfs of the full-disk cases holds.
BIG = GOOD.replace("steps = 20", "steps = 2000").replace("record_every = 5", "record_every = 1")
SPIKED = ["--data", "spiked", "--d", "16", "--k", "2"]
RUN = [*SPIKED, "--n", "200", "--steps", "5", "-q"]
IDX = ["--data", "idx", "--k", "2", "--steps", "5", "-q"]
IDX_RUN = [*IDX, "--n", "50"]
WORKERS = int(os.environ.get("SSLDYN_BAD_INPUT_WORKERS", "6"))
# Seconds a case may take: refusing a bad input is quick; starting MPI takes most of it.
TIME_LIMIT = 5.0

# The full-disk mount: 256 KiB, of which the ballast (a file that must stay as it is) leaves
# 32 KiB free, less than any good store needs.
FULL_SIZE = "256k"
BALLAST = bytes(range(256)) * 896  # 224 KiB

# Stores made once in setUpClass, by name.
STORES = {
    "good": ("sweep", GOOD),            # sweep grid, 2 runs
    "shard0": ("sweep", GOOD, "0/2"),   # its shards
    "shard1": ("sweep", GOOD, "1/2"),
    "single": ("run",),                 # ssldyn run: sweep single, 1 run
}

Content = Union[str, bytes, Callable[[str, Dict[str, str]], None]]


def copy_of(store: str) -> Callable:
    """A copy of a store made in setUpClass."""
    return lambda path, stores: shutil.copyfile(stores[store], path)


def immutable(make: Callable) -> Callable:
    """A file made by make, then immutable (chattr +i): not even root may write it. The case's
    folder releases it before it is removed."""
    def make_immutable(path, stores):
        make(path, stores)
        done = subprocess.run(["chattr", "+i", path], capture_output=True, text=True)
        if done.returncode != 0:
            raise unittest.SkipTest(f"cannot make a file immutable here ({done.stderr.strip()})")
    make_immutable.immutable = True
    return make_immutable


def cut_in_half(store: str) -> Callable:
    def make(path, stores):
        with open(stores[store], "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
    return make


def edited(store: str, edit: Callable) -> Callable:
    """A copy of a store changed through h5py."""
    def make(path, stores):
        shutil.copyfile(stores[store], path)
        with h5py.File(path, "a") as f:
            edit(f)
    return make


def set_attr(name, value):
    def edit(f):
        f.attrs[name] = value
    return edit


def delete(name):
    def edit(f):
        del f[name]
    return edit


def folder(path, stores):
    os.mkdir(path)


def fifo(path, stores):
    """A named pipe no one writes to: opening it to read would wait for ever."""
    os.mkfifo(path)


def plain_hdf5(path, stores):
    with h5py.File(path, "w") as f:
        f.create_group("data")
        f["data/x"] = [1.0, 2.0]


def foreign_lock(path, stores):
    # A lock of another host naming no SLURM job: whether its holder runs cannot be seen from
    # here (a lock of this host whose process is gone is stale, and cleared on sight).
    with open(path, "w") as f:
        f.write("host another-host\npid 4194305\njob \nsince 2026-01-01T00:00:00Z\n")


def ballast_leaving(free: int) -> Callable:
    """A file that fills its (tmpfs) folder up to `free` bytes, whatever the files made before it
    hold: a store grows with what a sweep records, the room left for the command must not."""
    def make(path, stores):
        fs = os.statvfs(os.path.dirname(path))
        with open(path, "wb") as f:
            f.write(BALLAST[:1] * max(0, fs.f_bavail * fs.f_frsize - free))
    return make


def corrupt_gzip(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    for i in range(len(packed) // 2, len(packed) // 2 + 8):
        packed[i] ^= 0xA5
    return bytes(packed)


GOOD_IDX = idx_images(100, 5, 5)


class Case(NamedTuple):
    name: str                       # "category: what is wrong"
    argv: Sequence[str]             # the ssldyn command; "{d}" is the case folder
    names: Sequence[str]            # what the message line must hold ("{d}" as in argv)
    files: Dict[str, Content] = {}  # relative path -> content, made before the command
    code: int = 2                   # 2 bad input, 1 runtime failure
    ranks: int = 0                  # 0: ssldyn started directly; n: under mpirun -n n
    mount: Tuple[str, ...] = ()     # (folder, "ro" or "full"): a tmpfs there, files inside
    recorded: str = ""              # code 1: the store the command adds, every run failed there
                                    # with a reason holding names


def sweep(config: str, store: str, *extra: str):
    return ["sweep", config, "--store", store, "-q", *extra]


CASES = [
    # --- sweep configs ------------------------------------------------------------------------
    Case("config: unknown key in [fixed]", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[fixed] bogus", "unknown setting"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nbogus = 3")}, ranks=1),
    Case("config: value that is not a number", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes]", "k", "'x'"], {"c.ini": GOOD.replace("k = 2, 3", "k = 2, x")},
         ranks=2),
    Case("config: unknown value of a named setting", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "loss", "'sideways'"],
         {"c.ini": GOOD + "loss = noncontrastive, sideways\n"}),
    Case("config: malformed line", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "this line has no equals sign"],
         {"c.ini": GOOD.replace("[axes]", "this line has no equals sign\n[axes]")}),
    Case("config: sweep name missing", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "name is missing"], {"c.ini": GOOD.replace("name = grid\n", "")}),
    Case("config: key before any section", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "bulk"], {"c.ini": "bulk = 0.5\n" + GOOD}),
    Case("config: unknown section", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axis]"], {"c.ini": GOOD.replace("[axes]", "[axis]")}),
    Case("config: invalid sweep name", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "'a/b'"], {"c.ini": GOOD.replace("name = grid", "name = a/b")}),
    Case("config: sweep name that climbs out of its folder", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini:2", "name", "'../../x'", "may not start with '.'"],
         {"c.ini": GOOD.replace("name = grid", "name = ../../x")}),
    Case("config: hidden sweep name, checked only", ["sweep", "{d}/c.ini", "--check"],
         ["{d}/c.ini:2", "name", "'.grid'"],
         {"c.ini": GOOD.replace("name = grid", "name = .grid")}),
    Case("config: the same runs twice", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "run 2", "repeats an earlier run"],
         {"c.ini": GOOD.replace("k = 2, 3", "k = 2, 2")}, ranks=2),
    Case("config: key given twice", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[fixed] d", "given twice"], {"c.ini": GOOD.replace("n = 200", "d = 8")}),
    Case("config: empty axis", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes] k", "empty value"], {"c.ini": GOOD.replace("k = 2, 3", "k =")}),
    Case("config: empty value in a list", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes] k", "'2,,3'"], {"c.ini": GOOD.replace("k = 2, 3", "k = 2,,3")}),
    Case("config: unmatched bracket", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes] spikes", "unmatched '['"],
         {"c.ini": GOOD + "spikes = [8,6,4], [10,2\n"}),
    Case("config: nested brackets", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes] spikes", "nested brackets"],
         {"c.ini": GOOD + "spikes = [8,[6,4]]\n"}),
    Case("config: zip of unequal lengths", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[zip] seed", "3 values"],
         {"c.ini": GOOD + "[zip]\nsigma_aug = 0.1, 0.2\nseed = 1, 2, 3\n"}),
    Case("config: key both fixed and varied", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "k is both fixed and varied"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nk = 2")}),
    Case("config: k larger than d", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "k", "17 exceeds d = 16"], {"c.ini": GOOD.replace("k = 2, 3", "k = 2, 17")},
         ranks=1),
    Case("config: data = idx without idx_path", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "idx_path", "required"],
         {"c.ini": GOOD.replace("data = spiked", "data = idx").replace("d = 16\n", "")}),
    Case("config: idx_path names a missing file", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "{d}/missing.gz"],
         {"c.ini": GOOD.replace("data = spiked", "data = idx\nidx_path = {d}/missing.gz")
          .replace("d = 16\n", "")}),
    Case("config: two-layer width 0", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "h", "got 0"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\nh = 0")}),
    Case("config: two-layer k larger than h", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "k", "3 exceeds h = 2"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\nh = 2")}),
    Case("config: two-layer minibatch of one", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "batch", "got 1"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\nbatch = 1")}),
    Case("config: two-layer with sphere dynamics", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "dynamics", "'sphere'", "two-layer"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\ndynamics = sphere")}),
    Case("config: unknown activation", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "activation", "swish"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\nactivation = swish")}),
    Case("config: float32 passes for the linear model", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "precision", "two-layer", "linear"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nprecision = float32")}),
    Case("config: unknown precision", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "precision", "float16"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = two-layer\nprecision = float16")}),
    Case("config: supervised baseline on unlabelled data", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "data", "no labels"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nmodel = supervised")}),
    Case("command line: more probes than samples",
         ["run", *SPIKED, "--n", "20", "--steps", "5", "--model", "two-layer", "--probes", "30",
          "--store", "{d}/s.h5"], ["probes", "n = 20"]),
    # m = 11000·2 outputs: Θ and Θ_T now and at initialisation and one block in the making,
    # 5m² = 2.4e9 entries whole on one rank, exceed its cap of 2^31 (theory/ntk.hpp).
    Case("command line: kernels larger than a rank holds",
         ["run", *SPIKED, "--n", "11000", "--steps", "5", "--model", "two-layer",
          "--ntk_probes", "11000", "--store", "{d}/s.h5"], ["ntk_probes", "run group"]),
    Case("config: noise that overflows C", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "sigma_aug", "1e+308 is too large"],
         {"c.ini": GOOD.replace("d = 16", "d = 16\nsigma_aug = 1e308")}, ranks=2),
    Case("config: seed beyond 2^63 - 1 in an axis", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "[axes] seed", "'9223372036854775808'"],
         {"c.ini": GOOD + "seed = 1, 9223372036854775808\n"}),
    Case("config: run config key without a value", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini:3", "k: ''"], {"r.ini": "data = spiked\nd = 16\nk =\n"}),
    Case("config: sweep config key without a value", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini:6", "[fixed] n: ''"], {"c.ini": GOOD.replace("n = 200", "n =")}),
    Case("config: a value of 10 MB", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini:2", "k: 'xxxxxxxx", "…' (10000000 bytes) is not an integer"],
         {"r.ini": "data = spiked\nk = " + "x" * 10_000_000 + "\n"}),
    Case("config: a NUL byte in a value", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini:4", "data: unknown value 'spiked\\0more'"],
         {"c.ini": GOOD.replace("data = spiked", "data = spiked\0more")}),
    Case("config: control characters in a sweep name", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini:2", "'gr\\x1b[31mid'"],
         {"c.ini": GOOD.replace("name = grid", "name = gr\x1b[31mid")}),
    Case("config: byte-order mark, then a bad key", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini:4", "[fixed] bogus", "unknown setting"],
         {"c.ini": "\ufeff" + GOOD.replace("data = spiked", "bogus = 1")}),
    Case("config: section in a run config", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini:3", "[fixed] d", "no sections"],
         {"r.ini": "data = spiked\n[fixed]\nd = 16\n"}),
    Case("config: run config key given twice", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini:3", "d: given twice (first on line 2)"],
         {"r.ini": "data = spiked\nd = 16\nd = 8\n"}),
    Case("config: run config is a named pipe", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini", "is a named pipe, not a regular file"], {"r.ini": fifo}),
    Case("config: sweep config is a named pipe", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "is a named pipe, not a regular file"], {"c.ini": fifo}, ranks=2),
    Case("config: sweep config file missing", sweep("{d}/missing.ini", "{d}/s.h5"),
         ["{d}/missing.ini"]),
    Case("config: sweep config is a folder", sweep("{d}/conf", "{d}/s.h5"),
         ["{d}/conf", "folder"], {"conf": folder}),
    Case("config: run config with an unknown key", ["run", "{d}/r.ini", "--store", "{d}/s.h5"],
         ["{d}/r.ini", "bogus_key"], {"r.ini": "data = spiked\nd = 16\nk = 2\nbogus_key = 3\n"}),
    Case("config: run config is a folder", ["run", "{d}/conf", *RUN, "--store", "{d}/s.h5"],
         ["{d}/conf", "folder"], {"conf": folder}),

    # --- command lines ------------------------------------------------------------------------
    Case("command line: unknown command", ["frobnicate", "{d}/s.h5"], ["frobnicate"]),
    Case("command line: unknown option", ["run", *RUN, "--bogus", "1", "--store", "{d}/s.h5"],
         ["--bogus"]),
    Case("command line: option without its value", ["run", "--store", "{d}/s.h5", "--k"],
         ["--k"]),
    Case("command line: not a number", ["run", *RUN, "--eta", "fast", "--store", "{d}/s.h5"],
         ["eta", "fast"]),
    Case("command line: spikes that overflow C",
         ["run", *RUN, "--spikes", "1e308,1", "--store", "{d}/s.h5"],
         ["spikes", "1e+308 is too large"]),
    Case("command line: noise that overflows C",
         ["run", *RUN, "--sigma_aug", "1e308", "--store", "{d}/s.h5"],
         ["sigma_aug", "1e+308 is too large"]),
    Case("command line: negative seed", ["run", *RUN, "--seed", "-1", "--store", "{d}/s.h5"],
         ["seed", "'-1'", "0 to 2^63 - 1"]),
    Case("command line: step size NaN", ["run", *RUN, "--eta", "nan", "--store", "{d}/s.h5"],
         ["eta", "'nan'", "finite"]),
    Case("command line: zero steps",
         ["run", *SPIKED, "--n", "200", "--steps", "0", "--store", "{d}/s.h5"],
         ["steps", "got 0"]),
    Case("command line: negative sample count",
         ["run", *SPIKED, "--n", "-5", "--steps", "5", "--store", "{d}/s.h5"], ["n", "-5"]),
    Case("command line: empty store path", ["run", *RUN, "--store", ""], ["--store"]),
    Case("command line: invalid --sweep name", ["run", *RUN, "--sweep", "a b", "--store",
                                                "{d}/s.h5"], ["--sweep", "'a b'"]),
    Case("command line: --sweep name starting with '.'",
         ["run", *RUN, "--sweep", "..", "--store", "{d}/s.h5"], ["--sweep", "name", "'..'"]),
    Case("command line: ls --sweeps of a text file", ["ls", "{d}/notes.h5", "--sweeps"],
         ["{d}/notes.h5", "not an HDF5 file"], {"notes.h5": "just some notes\n"}),
    Case("command line: sweep without --store", ["sweep", "{d}/c.ini"], ["--store"],
         {"c.ini": GOOD}, ranks=1),
    Case("command line: sweep without a config", ["sweep", "--store", "{d}/s.h5"], ["config"]),
    Case("command line: --group-size not a number", sweep("{d}/c.ini", "{d}/s.h5",
                                                          "--group-size", "two"),
         ["--group-size", "two"], {"c.ini": GOOD}),
    Case("command line: --group-size zero", sweep("{d}/c.ini", "{d}/s.h5", "--group-size", "0"),
         ["--group-size", "got 0"], {"c.ini": GOOD}),
    Case("command line: --group-size not dividing the ranks",
         sweep("{d}/c.ini", "{d}/s.h5", "--group-size", "3"),
         ["--group-size", "3 does not divide the 2 ranks"], {"c.ini": GOOD}, ranks=2),
    Case("command line: --grid not a shape", sweep("{d}/c.ini", "{d}/s.h5", "--grid", "2by1"),
         ["--grid", "'2by1'"], {"c.ini": GOOD}),
    Case("command line: --grid of another rank count",
         sweep("{d}/c.ini", "{d}/s.h5", "--group-size", "2", "--grid", "1x3"),
         ["--grid", "1x3 is 3 ranks", "has 2"], {"c.ini": GOOD}, ranks=2),
    Case("command line: --distribute-above negative",
         sweep("{d}/c.ini", "{d}/s.h5", "--distribute-above", "-1"),
         ["--distribute-above"], {"c.ini": GOOD}),
    Case("command line: --block-size zero", sweep("{d}/c.ini", "{d}/s.h5", "--block-size", "0"),
         ["--block-size"], {"c.ini": GOOD}),
    Case("command line: --threads zero", sweep("{d}/c.ini", "{d}/s.h5", "--threads", "0"),
         ["--threads"], {"c.ini": GOOD}),
    Case("command line: --checkpoint-every negative",
         sweep("{d}/c.ini", "{d}/s.h5", "--checkpoint-every", "-1"),
         ["--checkpoint-every"], {"c.ini": GOOD}, ranks=1),
    Case("command line: --shard out of range", sweep("{d}/c.ini", "{d}/s.h5", "--shard", "2/2"),
         ["--shard", "'2/2'"], {"c.ini": GOOD}),
    Case("command line: --shard malformed", sweep("{d}/c.ini", "{d}/s.h5", "--shard", "1of2"),
         ["--shard", "'1of2'"], {"c.ini": GOOD}),
    Case("command line: query --where without comparison", ["query", "{d}/g.h5", "--where", "k"],
         ["--where", "'k'"], {"g.h5": copy_of("good")}),
    Case("command line: query --where without value", ["query", "{d}/g.h5", "--where", "k=="],
         ["--where", "'k=='"], {"g.h5": copy_of("good")}),
    Case("command line: query --where ending in 'and'",
         ["query", "{d}/g.h5", "--where", "k>=2 and"], ["--where", "'k>=2 and'"],
         {"g.h5": copy_of("good")}),
    Case("command line: query --where '!' for '!='", ["query", "{d}/g.h5", "--where", "k!3"],
         ["--where", "'k!3'"], {"g.h5": copy_of("good")}),
    Case("command line: query --where unknown name",
         ["query", "{d}/g.h5", "--where", "kk==2"], ["--where", "'kk'"],
         {"g.h5": copy_of("good")}),
    Case("command line: query --where orders text",
         ["query", "{d}/g.h5", "--where", "loss<abc"], ["--where", "loss < abc"],
         {"g.h5": copy_of("good")}),
    Case("command line: query unknown metric", ["query", "{d}/g.h5", "--metric", "loss,bogus"],
         ["--metric", "'bogus'"], {"g.h5": copy_of("good")}),
    Case("command line: query unknown sweep", ["query", "{d}/g.h5", "--sweep", "nosuch"],
         ["--sweep", "{d}/g.h5", "'nosuch'"], {"g.h5": copy_of("good")}),
    Case("command line: query --at malformed", ["query", "{d}/g.h5", "--at", "t=soon"],
         ["--at", "'t=soon'"], {"g.h5": copy_of("good")}),
    Case("command line: query --at unknown", ["query", "{d}/g.h5", "--at", "later"],
         ["--at", "'later'"], {"g.h5": copy_of("good")}),
    Case("command line: query --format unknown", ["query", "{d}/g.h5", "--format", "xml"],
         ["--format", "'xml'"], {"g.h5": copy_of("good")}),
    Case("command line: ls without a store", ["ls"], ["store"]),
    Case("command line: merge without --store", ["merge", "{d}/a.h5", "{d}/b.h5"],
         ["--store"], {"a.h5": copy_of("shard0"), "b.h5": copy_of("shard1")}),
    Case("command line: report unknown option", ["report", "{d}/g.h5", "--bogus"], ["--bogus"],
         {"g.h5": copy_of("good")}),
    Case("command line: report --gd-error-t not a number",
         ["report", "{d}/g.h5", "--gd-error-t", "soon"], ["--gd-error-t", "'soon'"],
         {"g.h5": copy_of("good")}),
    Case("command line: report unknown sweep", ["report", "{d}/g.h5", "--sweep", "nosuch"],
         ["{d}/g.h5", "nosuch"], {"g.h5": copy_of("good")}),

    # --- IDX data files -----------------------------------------------------------------------
    Case("idx: wrong magic number", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--store",
                                     "{d}/s.h5"], ["{d}/x.idx", "magic"],
         {"x.idx": bytes([0, 0, 9, 3]) + GOOD_IDX[4:]}),
    Case("idx: labels, not images", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--store",
                                     "{d}/s.h5"], ["{d}/x.idx", "dimensions"],
         {"x.idx": bytes([0, 0, 8, 1]) + GOOD_IDX[4:]}),
    Case("idx: truncated", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--store", "{d}/s.h5"],
         ["{d}/x.idx", "ends early"], {"x.idx": GOOD_IDX[:-7]}),
    Case("idx: gzip stream corrupted", ["run", *IDX_RUN, "--idx_path", "{d}/x.gz", "--store",
                                        "{d}/s.h5"], ["{d}/x.gz", "corrupt"],
         {"x.gz": corrupt_gzip(GOOD_IDX)}),
    Case("idx: gzip stream cut short", ["run", *IDX_RUN, "--idx_path", "{d}/x.gz", "--store",
                                        "{d}/s.h5"], ["{d}/x.gz", "cut short"],
         {"x.gz": gzip.compress(GOOD_IDX)[:-30]}),
    Case("idx: zero dimension", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--store",
                                 "{d}/s.h5"], ["{d}/x.idx", "zero dimension"],
         {"x.idx": idx_images(100, 0, 5)}),
    Case("idx: header claims more images than the file holds",
         ["run", *IDX, "--n", "0", "--idx_path", "{d}/x.idx", "--store", "{d}/s.h5"],
         ["{d}/x.idx", "ends early"],
         {"x.idx": bytes([0, 0, 8, 3]) + b"".join(v.to_bytes(4, "big") for v in (1000, 5, 5))
          + GOOD_IDX[16:]}),
    Case("idx: longer than its header says", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx",
                                              "--store", "{d}/s.h5"],
         ["{d}/x.idx", "longer than its dimensions"], {"x.idx": GOOD_IDX + b"\0"}),
    Case("idx: data file is a folder", ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--store",
                                        "{d}/s.h5"], ["{d}/x.idx", "is a folder"],
         {"x.idx": folder}),
    Case("idx: data file is a named pipe", ["run", *IDX_RUN, "--idx_path", "{d}/p.idx",
                                            "--store", "{d}/s.h5"],
         ["{d}/p.idx", "is a named pipe, not a regular file"], {"p.idx": fifo}),
    Case("idx: named pipe in a sweep config", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "{d}/p.idx", "named pipe"],
         {"c.ini": GOOD.replace("data = spiked", "data = idx\nidx_path = {d}/p.idx")
          .replace("d = 16\n", ""), "p.idx": fifo}, ranks=2),
    Case("idx: label file is a named pipe",
         ["run", *IDX_RUN, "--idx_path", "{d}/x.idx", "--model", "supervised", "--labels_path",
          "{d}/p.idx", "--store", "{d}/s.h5"], ["{d}/p.idx", "named pipe"],
         {"x.idx": GOOD_IDX, "p.idx": fifo}),
    Case("idx: data file is a device", ["run", *IDX_RUN, "--idx_path", "/dev/zero", "--store",
                                        "{d}/s.h5"], ["/dev/zero", "character device"]),
    Case("idx: gzip stream followed by other bytes",
         ["run", *IDX_RUN, "--idx_path", "{d}/x.gz", "--store", "{d}/s.h5"],
         ["{d}/x.gz", "data after the end of its gzip stream"],
         {"x.gz": gzip.compress(GOOD_IDX) + b"trailing garbage\n"}),
    Case("idx: corrupt file named in a sweep config", sweep("{d}/c.ini", "{d}/s.h5"),
         ["{d}/c.ini", "{d}/x.gz"],
         {"c.ini": GOOD.replace("data = spiked", "data = idx\nidx_path = {d}/x.gz")
          .replace("d = 16\n", ""), "x.gz": corrupt_gzip(GOOD_IDX)}, ranks=2),

    # --- stores -------------------------------------------------------------------------------
    Case("store: not HDF5", ["ls", "{d}/notes.h5"], ["{d}/notes.h5", "not an HDF5 file"],
         {"notes.h5": "just some notes\n"}),
    Case("store: HDF5 but not an ssldyn store", ["query", "{d}/plain.h5"],
         ["{d}/plain.h5", "not an ssldyn store"], {"plain.h5": plain_hdf5}),
    Case("store: another schema_version", ["ls", "{d}/v3.h5"], ["{d}/v3.h5", "schema_version 3"],
         {"v3.h5": edited("good", set_attr("schema_version", 3))}),
    Case("store: schema 1, listed", ["ls", "{d}/v1.h5"],
         ["{d}/v1.h5", "`ssldyn upgrade {d}/v1.h5 --store NEW.h5`"],
         {"v1.h5": edited("good", set_attr("schema_version", 1))}),
    Case("store: schema 1, reported", ["report", "{d}/v1.h5"],
         ["{d}/v1.h5", "`ssldyn upgrade {d}/v1.h5 --store NEW.h5`"],
         {"v1.h5": edited("good", set_attr("schema_version", 1))}),
    Case("store: schema_version that is text", ["ls", "{d}/vt.h5"], ["{d}/vt.h5",
                                                                     "schema_version"],
         {"vt.h5": edited("good", set_attr("schema_version", "one"))}),
    Case("store: report on schema_version that is text", ["report", "{d}/vt.h5"],
         ["{d}/vt.h5", "schema_version"],
         {"vt.h5": edited("good", set_attr("schema_version", "one"))}),
    Case("store: truncated, listed", ["ls", "{d}/cut.h5"], ["{d}/cut.h5", "truncated file"],
         {"cut.h5": cut_in_half("good")}),
    Case("store: truncated, queried", ["query", "{d}/cut.h5"], ["{d}/cut.h5", "truncated file"],
         {"cut.h5": cut_in_half("good")}),
    Case("store: truncated, reported", ["report", "{d}/cut.h5"], ["{d}/cut.h5", "truncated file"],
         {"cut.h5": cut_in_half("good")}),
    Case("store: truncated, resumed", sweep("{d}/c.ini", "{d}/cut.h5", "--resume"),
         ["{d}/cut.h5", "truncated file"], {"c.ini": GOOD, "cut.h5": cut_in_half("good")},
         ranks=1),
    Case("store: truncated, a new sweep added", sweep("{d}/c.ini", "{d}/cut.h5"),
         ["{d}/cut.h5", "truncated file"], {"c.ini": OTHER, "cut.h5": cut_in_half("good")}),
    Case("store: truncated shard merged", ["merge", "--store", "{d}/m.h5", "{d}/a.h5",
                                           "{d}/b.h5"], ["{d}/b.h5", "truncated file"],
         {"a.h5": copy_of("shard0"), "b.h5": cut_in_half("shard1")}),
    Case("store: sweep without its run ids", ["query", "{d}/g.h5"], ["{d}/g.h5", "'run'"],
         {"g.h5": edited("good", delete("sweeps/grid/run"))}),
    Case("store: sweep without its status", ["ls", "{d}/g.h5"], ["{d}/g.h5", "'status'"],
         {"g.h5": edited("good", delete("sweeps/grid/status"))}),
    Case("store: invalid run status", ["ls", "{d}/g.h5"], ["{d}/g.h5", "status 7"],
         {"g.h5": edited("good", lambda f: f["sweeps/grid/status"].__setitem__(0, 7))}),
    Case("store: record steps missing, queried along the trajectory",
         ["query", "{d}/g.h5", "--at", "all"], ["{d}/g.h5", "'step'"],
         {"g.h5": edited("good", delete("sweeps/grid/step"))}),
    Case("store: a series missing, queried along the trajectory",
         ["query", "{d}/g.h5", "--metric", "loss", "--at", "all"], ["{d}/g.h5", "'gd_loss'"],
         {"g.h5": edited("good", delete("sweeps/grid/gd_loss"))}),
    Case("store: a folder, listed", ["ls", "{d}/dir.h5"], ["{d}/dir.h5", "folder"],
         {"dir.h5": folder}),
    Case("store: a folder, run into", ["run", *RUN, "--store", "{d}/dir.h5"],
         ["{d}/dir.h5", "folder"], {"dir.h5": folder}),
    Case("store: a folder, swept into", sweep("{d}/c.ini", "{d}/dir.h5"),
         ["{d}/dir.h5", "folder"], {"c.ini": GOOD, "dir.h5": folder}),
    Case("store: immutable, resumed", sweep("{d}/c.ini", "{d}/g.h5", "--resume"),
         ["{d}/g.h5", "store is not writable (Operation not permitted)"],
         {"c.ini": GOOD, "g.h5": immutable(copy_of("good"))}, ranks=2),
    Case("store: immutable, a new sweep added", sweep("{d}/c.ini", "{d}/g.h5"),
         ["{d}/g.h5", "store is not writable (Operation not permitted)"],
         {"c.ini": OTHER, "g.h5": immutable(copy_of("good"))}),
    Case("store: immutable, run --overwrite",
         ["run", *RUN, "--overwrite", "--store", "{d}/g.h5"],
         ["{d}/g.h5", "store is not writable (Operation not permitted)"],
         {"g.h5": immutable(copy_of("single"))}),
    Case("store: a named pipe, listed", ["ls", "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"p.h5": fifo}),
    Case("store: a named pipe, queried", ["query", "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"p.h5": fifo}),
    Case("store: a named pipe, resumed", sweep("{d}/c.ini", "{d}/p.h5", "--resume"),
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"c.ini": GOOD, "p.h5": fifo},
         ranks=2),
    Case("store: a named pipe, swept into", sweep("{d}/c.ini", "{d}/p.h5"),
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"c.ini": GOOD, "p.h5": fifo}),
    Case("store: a named pipe, run --overwrite", ["run", *RUN, "--overwrite", "--store",
                                                  "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"p.h5": fifo}),
    Case("store: a named pipe, run into", ["run", *RUN, "--store", "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"p.h5": fifo}),
    Case("store: a named pipe, reported", ["report", "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"], {"p.h5": fifo}),
    Case("store: a named pipe as a shard", ["merge", "--store", "{d}/m.h5", "{d}/a.h5",
                                            "{d}/p.h5"],
         ["{d}/p.h5", "is a named pipe, not a regular file"],
         {"a.h5": copy_of("shard0"), "p.h5": fifo}),
    Case("store: missing, listed", ["ls", "{d}/missing.h5"], ["{d}/missing.h5", "no such store"]),
    Case("store: existing, run without --overwrite", ["run", *RUN, "--store", "{d}/g.h5"],
         ["{d}/g.h5", "--overwrite"], {"g.h5": copy_of("good")}),
    Case("store: holds the sweep already, no --resume", sweep("{d}/c.ini", "{d}/g.h5"),
         ["{d}/g.h5", "already holds sweep 'grid'"], {"c.ini": GOOD, "g.h5": copy_of("good")},
         ranks=2),
    Case("store: resume of a sweep it does not hold", sweep("{d}/c.ini", "{d}/g.h5", "--resume"),
         ["{d}/g.h5", "no sweep 'other'"], {"c.ini": OTHER, "g.h5": copy_of("good")}),
    Case("store: resume of a missing store", sweep("{d}/c.ini", "{d}/missing.h5", "--resume"),
         ["{d}/missing.h5", "no such store"], {"c.ini": GOOD}),
    Case("store: resume with another config", sweep("{d}/c.ini", "{d}/g.h5", "--resume"),
         ["{d}/g.h5", "another config"],
         {"c.ini": GOOD.replace("k = 2, 3", "k = 2, 4"), "g.h5": copy_of("good")}, ranks=2),
    Case("store: locked from another host", sweep("{d}/c.ini", "{d}/g.h5", "--resume"),
         ["{d}/g.h5", "locked by process 4194305 on another-host", "--break-lock"],
         {"c.ini": GOOD, "g.h5": copy_of("good"), "g.h5.lock": foreign_lock}),
    Case("store: merge of a store that is not a shard",
         ["merge", "--store", "{d}/m.h5", "{d}/a.h5", "{d}/g.h5"],
         ["{d}/g.h5", "not a shard"], {"a.h5": copy_of("shard0"), "g.h5": copy_of("good")}),
    Case("store: merge with a shard missing", ["merge", "--store", "{d}/m.h5", "{d}/a.h5"],
         ["sweep 'grid'", "missing shard stores for shards 1"], {"a.h5": copy_of("shard0")}),
    Case("store: merge naming a shard twice",
         ["merge", "--store", "{d}/m.h5", "{d}/a.h5", "{d}/a.h5"], ["{d}/a.h5", "named twice"],
         {"a.h5": copy_of("shard0")}),
    Case("store: merge into an existing store",
         ["merge", "--store", "{d}/g.h5", "{d}/a.h5", "{d}/b.h5"], ["{d}/g.h5", "exists"],
         {"a.h5": copy_of("shard0"), "b.h5": copy_of("shard1"), "g.h5": copy_of("good")}),
    Case("store: report on a text file", ["report", "{d}/notes.h5"], ["{d}/notes.h5"],
         {"notes.h5": "just some notes\n"}),
    Case("store: report into a folder of other files",
         ["report", "{d}/g.h5", "--out", "{d}/mine"], ["{d}/mine"],
         {"g.h5": copy_of("good"), "mine/keep.txt": "my own file\n"}),

    # --- paths --------------------------------------------------------------------------------
    Case("path: run into a missing folder", ["run", *RUN, "--store", "{d}/no/such/s.h5"],
         ["{d}/no/such/s.h5", "does not exist"]),
    Case("path: sweep into a missing folder", sweep("{d}/c.ini", "{d}/no/such/s.h5"),
         ["{d}/no/such/s.h5", "No such file or directory"], {"c.ini": GOOD}, ranks=1),
    Case("path: store under a regular file", ["run", *RUN, "--store", "{d}/afile/s.h5"],
         ["{d}/afile/s.h5", "{d}/afile is not a folder"], {"afile": "a regular file\n"}),
    Case("path: sweep store under a regular file", sweep("{d}/c.ini", "{d}/afile/s.h5"),
         ["{d}/afile/s.h5", "Not a directory"], {"c.ini": GOOD, "afile": "a regular file\n"}),
    Case("path: report into a folder under a regular file",
         ["report", "{d}/g.h5", "--out", "{d}/afile/rep"], ["{d}/afile/rep"],
         {"g.h5": copy_of("good"), "afile": "a regular file\n"}),
    Case("path: run into a read-only folder", ["run", *RUN, "--store", "{d}/ro/s.h5"],
         ["{d}/ro/s.h5", "Read-only file system"], {"ro/keep.txt": "keep me\n"},
         mount=("ro", "ro")),
    Case("path: run --overwrite of a store in a read-only folder",
         ["run", *RUN, "--overwrite", "--store", "{d}/ro/g.h5"], ["{d}/ro/g.h5", "Read-only"],
         {"ro/g.h5": copy_of("single")}, mount=("ro", "ro")),
    Case("path: sweep adding to a store in a read-only folder",
         sweep("{d}/c.ini", "{d}/ro/g.h5"), ["{d}/ro/g.h5", "Read-only"],
         {"c.ini": OTHER, "ro/g.h5": copy_of("good")}, ranks=2, mount=("ro", "ro")),
    Case("path: resume in a read-only folder", sweep("{d}/c.ini", "{d}/ro/g.h5", "--resume"),
         ["{d}/ro/g.h5", "(Read-only file system)"],
         {"c.ini": GOOD, "ro/g.h5": copy_of("good")}, ranks=1, mount=("ro", "ro")),
    Case("path: merge into a read-only folder",
         ["merge", "--store", "{d}/ro/m.h5", "{d}/a.h5", "{d}/b.h5"], ["{d}/ro/m.h5", "Read-only"],
         {"a.h5": copy_of("shard0"), "b.h5": copy_of("shard1"), "ro/keep.txt": "keep me\n"},
         mount=("ro", "ro")),
    Case("path: report into a read-only folder", ["report", "{d}/ro/g.h5"],
         ["{d}/ro/g-report", "not writable"], {"ro/g.h5": copy_of("good")}, mount=("ro", "ro")),

    # --- numbers that make a run diverge -----------------------------------------------------
    # Exit 1 with the runs recorded failed: the numbers are valid, the dynamics diverge on them.
    # The first step overflows to ±inf, which the polar retraction's SVD never returned from.
    Case("numbers: step size 1e308 with the polar retraction",
         ["run", *SPIKED[:-2], "--k", "3", "--n", "200", "--steps", "5", "--eta", "1e308",
          "--retraction", "polar", "-q", "--store", "{d}/s.h5"],
         ["non-finite weights at step 1"], code=1, recorded="s.h5"),
    Case("numbers: step size 1e308, each retraction, in a sweep on two ranks",
         sweep("{d}/c.ini", "{d}/s.h5"), ["non-finite weights at step 1"],
         {"c.ini": GOOD.replace("steps = 20", "steps = 20\neta = 1e308")
          + "retraction = qr, polar, cayley, geodesic\n"}, code=1, ranks=2, recorded="s.h5"),
    Case("numbers: two-layer step size 1e308",
         ["run", *SPIKED, "--n", "200", "--steps", "5", "--eta", "1e308", "--model", "two-layer",
          "--h", "8", "-q", "--store", "{d}/s.h5"], ["non-finite weights", "at step 1"], code=1,
         recorded="s.h5"),

    # --- runs too big for a rank's memory -----------------------------------------------------
    # Refused before anything is allocated (run/footprint.hpp), naming the sizes and the memory a
    # rank has: MemAvailable, the cgroup's limit or SLURM's, whichever is least. d = 60000 needs
    # 144 GB to decompose C (5 d² doubles): more than any machine these tests run on.
    Case("too big: spiked d = 60000", ["run", *SPIKED[:-4], "--d", "60000", "--k", "2",
                                       "--n", "200", "--steps", "5", "--store", "{d}/s.h5"],
         ["the run needs about 144.0 GB per rank", "d = 60000", "available per rank"]),
    Case("too big: spiked d = 60000 in a sweep on two ranks", sweep("{d}/c.ini", "{d}/s.h5"),
         ["run 0", "d = 60000", "available per rank"],
         {"c.ini": GOOD.replace("d = 16", "d = 60000")}, ranks=2),
    Case("too big: n = 10^10 samples", ["run", *SPIKED, "--n", "10000000000", "--steps", "5",
                                        "-q", "--store", "{d}/s.h5"],
         ["n = 10000000000", "available per rank"]),
    Case("too big: two-layer h = 10^8", ["run", *RUN, "--model", "two-layer",
                                         "--h", "100000000", "--store", "{d}/s.h5"],
         ["h = 100000000", "available per rank"]),
    Case("too big: a 4096 x 4096-pixel IDX file",
         ["run", *IDX, "--n", "2", "--idx_path", "{d}/huge.idx.gz", "--store", "{d}/s.h5"],
         ["{d}/huge.idx.gz", "d = 16777216", "available per rank"],
         {"huge.idx.gz": gzip.compress(bytes((0, 0, 8, 3)) + b"".join(
             v.to_bytes(4, "big") for v in (2, 4096, 4096)) + bytes(2 * 4096 * 4096), 1)}),
    Case("too big: 10^12 records", ["run", *SPIKED, "--n", "200", "--steps", "1000000000000",
                                    "--record_every", "1", "-q", "--store", "{d}/s.h5"],
         ["1000000000001 records", "steps = 1000000000000", "record_every = 1",
          "available per rank"]),
    Case("too big: 10^12 records, dry run", ["run", *SPIKED, "--n", "200", "--steps",
                                             "1000000000000", "--record_every", "1", "--dry-run"],
         ["1000000000001 records", "available per rank"]),

    # --- a full disk --------------------------------------------------------------------------
    # Exit 1, a runtime failure: nothing is wrong with the command or its files, and the same
    # command succeeds once there is space (README: 1 runtime failure, 2 bad input). The store
    # (or report) is named with the system's reason; the folder keeps exactly what it held.
    Case("full disk: sweep whose store does not fit", sweep("{d}/c.ini", "{d}/full/s.h5"),
         ["{d}/full/s.h5", "No space left on device"],
         {"c.ini": BIG, "full/keep.txt": "keep me\n"}, code=1, ranks=1, mount=("full", "full")),
    Case("full disk: sweep on two ranks into a nearly full folder",
         sweep("{d}/c.ini", "{d}/full/s.h5"), ["{d}/full/s.h5", "No space left on device"],
         {"c.ini": GOOD, "full/ballast": BALLAST}, code=1, ranks=2, mount=("full", "full")),
    Case("full disk: sweep added to a store in a full folder", sweep("{d}/c.ini", "{d}/full/g.h5"),
         ["{d}/full/g.h5", "No space left on device"],
         {"c.ini": OTHER, "full/g.h5": copy_of("good"), "full/ballast": ballast_leaving(32768)},
         code=1, mount=("full", "full")),
    Case("full disk: run", ["run", *SPIKED, "--n", "200", "--steps", "2000", "--record_every",
                            "1", "-q", "--store", "{d}/full/s.h5"],
         ["{d}/full/s.h5", "No space left on device"],
         {"full/keep.txt": "keep me\n"}, code=1, mount=("full", "full")),
    Case("full disk: merge", ["merge", "--store", "{d}/full/m.h5", "{d}/a.h5", "{d}/b.h5"],
         ["{d}/full/m.h5", "No space left on device"],
         {"a.h5": copy_of("shard0"), "b.h5": copy_of("shard1"), "full/ballast": BALLAST},
         code=1, mount=("full", "full")),
    Case("full disk: report", ["report", "{d}/g.h5", "--out", "{d}/full/rep"],
         ["{d}/full/rep", "No space left on device"],
         {"g.h5": copy_of("good"), "full/ballast": BALLAST}, code=1, mount=("full", "full")),
]

def numeric_keys():
    """The run settings whose default is a number (or a list of numbers), from `ssldyn run
    --help`: every one of them is checked with NaN, ±inf and ±1e308 below, so a key added later
    is too."""
    text = subprocess.run([BIN, "run", "--help"], env=ENV, capture_output=True, text=True,
                          timeout=30).stdout
    settings = text[text.index("Run settings"):]
    keys = []
    for key, default in re.findall(r"--([a-z_0-9]+) VALUE[^[]*\[([^]]*)\]", settings):
        try:
            [float(x) for x in default.split(",")]
        except ValueError:
            continue
        keys.append(key)
    return keys


# A tiny run whose settings a case overrides one at a time (a key must not be given twice).
TINY = {"data": "spiked", "d": "8", "n": "64", "k": "2", "spikes": "4,3,2,1", "steps": "4",
        "record_every": "2"}
# The settings under which a key is read at all (others ignore it).
READ_UNDER = {"weight_decay": {"dynamics": "naive"},
              "penalty": {"dynamics": "penalty"},
              "predictor_rate": {"loss": "byol", "dynamics": "naive"},
              "target_rate": {"loss": "byol", "dynamics": "naive"},
              "temperature": {"loss": "infonce"},
              **{key: {"model": "two-layer", "h": "8"}
                 for key in ("h", "batch", "probes", "ntk_probes", "reference_tolerance")}}
# 1e308 where it is a valid number on which the run diverges: exit 1, the run recorded failed
# (with the reason it gives), not a bad input.
DIVERGES_AT_1E308 = {"eta": "non-finite", "weight_decay": "non-finite", "penalty": "non-finite",
                     "predictor_rate": "non-finite", "target_rate": "non-finite"}
# 1e308 where the run stays finite and ends (exit 0), so not in the catalogue: orthogonal GD at
# η·λ_max = 1e308 stays on its manifold and stalls (flagged in its summary); τ = 1e308 makes
# InfoNCE's softmax uniform.
FINITE_AT_1E308 = ("eta_rel", "temperature")


def tiny_run(key, value):
    settings = {**TINY, **READ_UNDER.get(key, {}), key: value}
    if key == "spikes":
        settings[key] = value + ",1"
    return ["run", *[f"--{k}={v}" for k, v in settings.items()], "-q", "--store", "{d}/s.h5"]


NUMERIC_KEYS = numeric_keys()
CASES += [Case(f"numbers: {key} = {value}", tiny_run(key, value), [key])
          for key in NUMERIC_KEYS for value in ("nan", "inf", "-inf", "-1e308")]
CASES += [Case(f"numbers: {key} = 1e308", tiny_run(key, "1e308"),
               [DIVERGES_AT_1E308[key]] if key in DIVERGES_AT_1E308 else [key],
               code=1 if key in DIVERGES_AT_1E308 else 2,
               recorded="s.h5" if key in DIVERGES_AT_1E308 else "")
          for key in NUMERIC_KEYS if key not in FINITE_AT_1E308]


CATEGORIES = ("config", "command line", "idx", "store", "path", "numbers", "too big", "full disk")
# Lines no bad input may print: tracebacks, crash reports, HDF5's own error dumps.
FORBIDDEN = re.compile(r"Traceback|Segmentation|Signal:|HDF5-DIAG|terminate called|MPI_ABORT|"
                       r"core dumped|Aborted")


def unmount(where):
    if subprocess.run(["umount", where], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", where], capture_output=True)


def make_files(folder, case, stores):
    for name, content in case.files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if callable(content):
            content(path, stores)
        else:
            if isinstance(content, str):
                content = content.replace("{d}", folder)
            with open(path, "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)


def recorded_runs(path):
    """(sweep, run id, status, failure) of every run in a store."""
    text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
    runs = []
    with h5py.File(path, "r") as f:
        for name, sweep in f["sweeps"].items():
            for row, run_id in enumerate(sweep["run"][()]):
                runs.append((name, text(run_id), int(sweep["status"][row]),
                             text(sweep["failure"][row])))
    return runs


def run_in_time(command, folder):
    """Runs command in a session of its own: the exit code, the output and the seconds taken,
    or, past TIME_LIMIT, the whole session killed and code None."""
    start = time.monotonic()
    proc = subprocess.Popen(command, env=ENV, cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        return dict(code=None, seconds=time.monotonic() - start, stdout=stdout, stderr=stderr)
    return dict(code=proc.returncode, seconds=time.monotonic() - start, stdout=stdout,
                stderr=stderr)


def run_case(case, stores):
    """Makes the case's files in a folder of its own, runs its command, and returns what the
    checks need; a mount is always undone and the folder removed."""
    outcome = {}
    with tempfile.TemporaryDirectory() as folder:
        mounted = None
        try:
            if case.mount:
                mounted = os.path.join(folder, case.mount[0])
                os.mkdir(mounted)
                size = FULL_SIZE if case.mount[1] == "full" else "1m"
                done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755",
                                       "tmpfs", mounted], capture_output=True, text=True)
                if done.returncode != 0:
                    mounted = None
                    outcome["skip"] = (f"cannot mount a tmpfs here ({done.stderr.strip()}): the "
                                       "read-only and full-disk cases need mount permission")
                    return outcome
            make_files(folder, case, stores)
            if case.mount and case.mount[1] == "ro":
                done = subprocess.run(["mount", "-o", "remount,ro", mounted],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    outcome["skip"] = f"cannot remount a tmpfs read-only ({done.stderr.strip()})"
                    return outcome
                try:
                    open(os.path.join(mounted, "probe"), "w").close()
                    outcome["error"] = f"the read-only mount {mounted} takes files"
                    return outcome
                except OSError:
                    pass
            argv = [a.replace("{d}", folder) for a in case.argv]
            command = [BIN, *argv]
            if case.ranks:
                command = [MPIEXEC, "-n", str(case.ranks), "--oversubscribe",
                           "--allow-run-as-root", *command]
            outcome["before"] = snapshot(folder)
            outcome.update(folder=folder, command=command, **run_in_time(command, folder))
            outcome["after"] = snapshot(folder)
            if case.recorded and os.path.isfile(os.path.join(folder, case.recorded)):
                outcome["runs"] = recorded_runs(os.path.join(folder, case.recorded))
        except unittest.SkipTest as e:
            outcome["skip"] = str(e)
        except Exception:
            outcome["error"] = traceback.format_exc()
        finally:
            for name, content in case.files.items():
                if getattr(content, "immutable", False):
                    subprocess.run(["chattr", "-i", os.path.join(folder, name)],
                                   capture_output=True)
            if mounted:
                unmount(mounted)
    return outcome


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.shared.cleanup)
        stores = {}
        config = os.path.join(cls.shared.name, "good.ini")
        with open(config, "w") as f:
            f.write(GOOD)
        procs = {}
        for name, how in STORES.items():
            path = os.path.join(cls.shared.name, f"{name}.h5")
            stores[name] = path
            if how[0] == "run":
                args = ["run", *RUN, "--store", path]
            else:
                args = ["sweep", config, "--store", path, "-q"]
                if len(how) > 2:
                    args += ["--shard", how[2]]
            procs[name] = subprocess.Popen([BIN, *args], env=ENV, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
        for name, proc in procs.items():
            _, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"could not make store {name}: {err}")
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = pool.map(lambda case: run_case(case, stores), CASES)
            cls.outcomes = dict(zip((case.name for case in CASES), outcomes))

    def check(self, case):
        outcome = self.outcomes[case.name]
        if "skip" in outcome:
            self.skipTest(outcome["skip"])
        self.assertNotIn("error", outcome, outcome.get("error"))
        folder, code, stderr = outcome["folder"], outcome["code"], outcome["stderr"]
        what = f"{case.name}\n$ {' '.join(outcome['command'])}\nexit {code} after " \
               f"{outcome['seconds']:.1f} s\nstdout: {outcome['stdout']}\nstderr: {stderr}"
        what = what if len(what) < 10_000 else what[:10_000] + "…"
        self.assertIsNotNone(code, f"no answer within {TIME_LIMIT} s: killed\n{what}")
        self.assertLess(outcome["seconds"], TIME_LIMIT, what)
        self.assertEqual(code, case.code, what)
        self.assertIsNone(FORBIDDEN.search(stderr), what)
        if case.recorded:
            self.check_recorded(case, outcome, what)
            return
        # Under mpirun, mpirun's own report of the exit code follows: only ours is counted.
        lines = [l for l in stderr.splitlines() if l.strip()]
        ours = [l for l in lines if l.startswith("ssldyn")] if case.ranks else lines
        self.assertEqual(len(ours), 1, what)
        # Values are echoed cut and escaped: a message is one line a reader takes in at once.
        self.assertLess(len(ours[0]), 1000, what)
        prefix = "ssldyn: error: " if case.code == 2 else "ssldyn: failure: "
        self.assertTrue(ours[0].startswith(prefix), what)
        for name in case.names:
            self.assertIn(name.replace("{d}", folder), ours[0], what)
        self.assertEqual(outcome["after"], outcome["before"], f"files changed\n{what}")

    def check_recorded(self, case, outcome, what):
        """A run that diverged: its store is the only file added, every run in it failed (3)
        with a reason holding each name, and the command said nothing of its own on stderr."""
        self.assertEqual([l for l in outcome["stderr"].splitlines() if l.startswith("ssldyn")],
                         [], what)
        after = dict(outcome["after"])
        self.assertIn(case.recorded, after, f"no store written\n{what}")
        del after[case.recorded]
        self.assertEqual(after, outcome["before"], f"files changed\n{what}")
        self.assertTrue(outcome["runs"], what)
        for sweep, run_id, status, failure in outcome["runs"]:
            self.assertEqual(status, 3, f"run {run_id} of {sweep} is not failed\n{what}")
            for name in case.names:
                self.assertIn(name, failure, f"run {run_id} of {sweep}\n{what}")


def _slug(text):
    return re.sub(r"\W+", "_", text).strip("_").lower()


for _number, _case in enumerate(CASES, 1):
    setattr(BadInputTest, f"test_{_number:03d}_{_slug(_case.name)}",
            lambda self, case=_case: self.check(case))


class CatalogueTest(unittest.TestCase):
    def test_catalogue_has_at_least_40_distinct_cases_in_every_category(self):
        names = [c.name for c in CASES]
        self.assertEqual(len(names), len(set(names)), "case names repeat")
        self.assertGreaterEqual(len(CASES), 40)
        counts = {c: sum(n.startswith(c + ":") for n in names) for c in CATEGORIES}
        self.assertEqual(sum(counts.values()), len(CASES), "a case outside the categories")
        for category, count in counts.items():
            self.assertGreater(count, 0, category)
        # Every number setting, those added later included, meets NaN, ±inf and ±1e308.
        self.assertGreaterEqual(len(NUMERIC_KEYS), 20, NUMERIC_KEYS)
        for key in NUMERIC_KEYS:
            self.assertIn(f"numbers: {key} = nan", names)
            self.assertTrue(f"numbers: {key} = 1e308" in names or key in FINITE_AT_1E308, key)
        print(f"\n{len(CASES)} bad inputs: " +
              ", ".join(f"{count} {category}" for category, count in counts.items()))


if __name__ == "__main__":
    unittest.main()
