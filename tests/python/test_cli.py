"""`ssldyn run` on bad input: exit code 2, one line on stderr naming the input, and every file
that was there before left as it was (no partial stores). Also --help, --version and
--overwrite."""

import gzip
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import h5py

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")
FASHION_FILE = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

# Small settings that get past validation quickly.
FAST = ["--data", "spiked", "--d", "16", "--k", "2", "--n", "200", "--steps", "5"]


def snapshot(folder):
    """relative path -> sha256 of every regular file under folder, 'folder' for every folder,
    'link -> TARGET' for a symbolic link and the kind of anything else (a named pipe is never
    opened)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                entry = "link -> " + os.readlink(path)
            elif stat.S_ISDIR(mode):
                entry = "folder"
            elif stat.S_ISREG(mode):
                with open(path, "rb") as f:
                    entry = hashlib.sha256(f.read()).hexdigest()
            else:
                entry = "fifo" if stat.S_ISFIFO(mode) else f"special file {stat.S_IFMT(mode):o}"
            out[os.path.relpath(path, folder)] = entry
    return out


def names_input(line, name):
    """name appears in line as a whole word (so that 'k' is not found inside 'keep_prob')."""
    return re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", line) is not None


def idx_images(count, rows, cols, seed=0, magic=(0, 0, 8, 3)):
    """An unsigned-byte IDX image file: magic, big-endian dims, pixels."""
    head = bytes(magic) + b"".join(v.to_bytes(4, "big") for v in (count, rows, cols))
    pixels = bytes((i * 131 + seed * 7 + (i * i) % 251) % 256 for i in range(count * rows * cols))
    return head + pixels


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One valid store, made once and copied into the tests that need one.
        cls.shared = tempfile.TemporaryDirectory()
        cls.valid_store = os.path.join(cls.shared.name, "valid.h5")
        out = cls.run_ssldyn(["run", *FAST, "--store", cls.valid_store, "-q"], cls.shared.name)
        if out.returncode != 0:
            raise RuntimeError(f"could not make a store: {out.stderr}")

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanup()

    @staticmethod
    def run_ssldyn(args, cwd):
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=ENV, cwd=cwd,
                              timeout=120)

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        # Files a failed run must leave alone.
        self.write("notes.txt", "keep me\n")
        self.write("afile", "a regular file, not a folder\n")
        self.store = self.path("out.h5")

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, content):
        path = self.path(name)
        with open(path, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
        return path

    def expect_bad_input(self, args, *names):
        """ssldyn args (run in the test folder) exits 2 with one 'ssldyn: error:' line naming
        every one of names, and leaves the folder exactly as it was."""
        before = snapshot(self.dir)
        out = self.run_ssldyn(args, self.dir)
        after = snapshot(self.dir)
        what = f"ssldyn {' '.join(args)}\nstdout: {out.stdout}\nstderr: {out.stderr}"
        self.assertEqual(out.returncode, 2, what)
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, what)
        self.assertTrue(lines[0].startswith("ssldyn: error:"), what)
        for name in names:
            self.assertTrue(names_input(lines[0], name), f"{name!r} not named\n{what}")
        self.assertEqual(after, before, f"files changed\n{what}")
        return lines[0]

    def run_bad(self, *args, names=()):
        """`ssldyn run args --store out.h5`: a run that got past the check would make out.h5."""
        return self.expect_bad_input(["run", *args, "--store", self.store], *names)

    # --- command line ---------------------------------------------------------------------

    def test_unknown_command(self):
        self.expect_bad_input(["frobnicate"], "frobnicate")
        self.expect_bad_input(["frobnicate", "--store", self.store], "frobnicate")

    def test_unknown_option(self):
        self.run_bad("--bogus", "1", names=["--bogus"])
        self.run_bad(*FAST, "--bogus", "1", names=["--bogus"])

    def test_unknown_names(self):
        for key in ("loss", "dynamics", "retraction", "covariance", "path"):
            with self.subTest(key=key):
                self.run_bad(*FAST, f"--{key}", "foo", names=[key, "foo"])
        self.run_bad("--data", "foo", names=["data", "foo"])
        self.run_bad("--data", "foo", "--d", "16", "--k", "2", names=["data", "foo"])

    def test_k_larger_than_d(self):
        self.run_bad("--data", "spiked", "--d", "8", "--k", "9", names=["k", "9"])
        # Fashion-MNIST (the default data) has d = 784.
        self.run_bad("--k", "785", names=["k", "785"])

    def test_impossible_step_sizes(self):
        self.run_bad(*FAST, "--eta", "-1", names=["eta"])
        self.run_bad(*FAST, "--eta", "0", "--eta_rel", "0", names=["eta_rel"])
        self.run_bad(*FAST, "--eta_rel", "-0.5", names=["eta_rel"])

    def test_other_impossible_values(self):
        for key, value in (("k", "0"), ("steps", "0"), ("record_every", "0"), ("n", "1"),
                           ("keep_prob", "0"), ("sigma_aug", "-1"), ("weight_decay", "-1")):
            with self.subTest(key=key):
                self.run_bad(*FAST, f"--{key}", value, names=[key])

    def test_not_numbers(self):
        for key, value in (("k", "abc"), ("eta", "1e"), ("sigma_aug", "x"), ("n", "1.5"),
                           ("eta", "nan"), ("spikes", "3,,1"), ("centre", "maybe")):
            with self.subTest(key=key, value=value):
                self.run_bad(*FAST, f"--{key}", value, names=[key])

    def test_bad_sweep_name(self):
        self.run_bad(*FAST, "--sweep", "a/b", names=["--sweep"])

    # --- data files -----------------------------------------------------------------------

    def test_missing_idx_file(self):
        self.run_bad("--data", "idx", "--idx_path", "/nonexistent/x.gz", "--k", "2",
                     names=["/nonexistent/x.gz"])
        missing = self.path("missing-images.gz")
        self.run_bad("--data", "idx", "--idx_path", missing, names=[missing])
        self.run_bad("--data", "idx", names=["idx_path"])  # no file given at all

    def test_corrupt_idx_files(self):
        small = ["--n", "50", "--k", "2", "--steps", "5"]
        good = idx_images(100, 5, 5)
        # Control: the good file itself is accepted.
        good_path = self.write("good.idx", good)
        out = self.run_ssldyn(["run", "--data", "idx", "--idx_path", good_path, *small,
                               "--store", self.path("control.h5"), "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        os.remove(self.path("control.h5"))
        # A truncated copy of Fashion-MNIST (the gzip stream cut inside the images).
        with open(FASHION_FILE, "rb") as f:
            cut = self.write("fashion-cut.gz", f.read(100_000))
        cases = {
            "truncated copy": cut,
            "data cut": self.write("cut.idx", good[:-7]),
            "header cut": self.write("header-cut.idx", good[:10]),
            "gzip cut": self.write("cut.gz", gzip.compress(good)[:len(gzip.compress(good)) // 2]),
            "label magic": self.write("labels.idx", bytes([0, 0, 8, 1]) + good[4:]),
            "signed-byte type": self.write("type.idx", bytes([0, 0, 9, 3]) + good[4:]),
            "non-zero first byte": self.write("byte0.idx", bytes([1, 0, 8, 3]) + good[4:]),
            "zero rows": self.write("zero.idx", idx_images(100, 0, 5)),
            "too long": self.write("long.idx", good + b"\0"),
            "not idx at all": self.write("text.idx", "hello, world\n" * 20),
        }
        for what, path in cases.items():
            with self.subTest(what):
                self.run_bad("--data", "idx", "--idx_path", path, *small, names=[path])

    def test_idx_header_claiming_more_than_the_file_holds(self):
        # A corrupt (huge) image count with n = 0 (the whole file): bad input, not a failed
        # allocation.
        path = self.write("huge.idx", bytes([0, 0, 8, 3]) + b"".join(
            v.to_bytes(4, "big") for v in (0xFFFFFFFF, 4096, 4096)) + bytes(64))
        self.run_bad("--data", "idx", "--idx_path", path, "--n", "0", "--k", "2", "--steps",
                     "5", names=[path])

    def test_more_samples_than_the_file_holds(self):
        path = self.write("small.idx", idx_images(30, 4, 4))
        self.run_bad("--data", "idx", "--idx_path", path, "--n", "31", "--k", "2", names=["n"])

    # --- stores ---------------------------------------------------------------------------

    def test_existing_store_without_overwrite(self):
        existing = self.path("existing.h5")
        shutil.copy(self.valid_store, existing)
        # The snapshot comparison checks the store stays byte-identical.
        self.expect_bad_input(["run", *FAST, "--store", existing], existing)
        self.expect_bad_input(["run", *FAST, "--seed", "2", "--store", existing], existing)
        # Not a store at all, but still an existing file.
        self.expect_bad_input(["run", *FAST, "--store", self.path("notes.txt")],
                              self.path("notes.txt"))

    def test_store_in_a_missing_folder(self):
        target = self.path("no/such/folder/store.h5")
        self.run_bad_store(target)

    def test_store_that_is_a_folder(self):
        os.mkdir(self.path("folder.h5"))
        self.run_bad_store(self.path("folder.h5"))

    def test_store_under_a_regular_file(self):
        # The parent is a file: unwritable even for root (the tests may run as root, for
        # whom permission bits do not stop writes).
        self.run_bad_store(self.path("afile/store.h5"))

    def test_store_in_an_unwritable_system_folder(self):
        # /proc takes no new files, even from root.
        self.run_bad_store(f"/proc/ssldyn-test-{os.getpid()}.h5")

    def run_bad_store(self, target):
        self.expect_bad_input(["run", *FAST, "--store", target], target)

    # --- config files ---------------------------------------------------------------------

    def test_config_file_with_an_unknown_key(self):
        config = self.write("unknown.ini", "data = spiked\nd = 16\nk = 2\nbogus_key = 3\n")
        line = self.run_bad(config, names=["bogus_key"])
        self.assertIn(config, line)
        self.run_bad("--config", config, names=["bogus_key"])

    def test_config_file_with_a_bad_value(self):
        for text, key in (("k = abc\n", "k"), ("loss = foo\n", "loss"), ("eta = -1\n", "eta"),
                          ("d = 4\nk = 5\n", "k")):
            with self.subTest(text=text):
                config = self.write("bad.ini", "data = spiked\nn = 200\n" + text)
                self.run_bad(config, names=[key])

    def test_config_file_with_a_malformed_line(self):
        config = self.write("malformed.ini", "data = spiked\nthis line has no equals sign\n")
        self.run_bad(config, names=[config])

    def test_config_files_with_a_byte_order_mark(self):
        # Editors that save UTF-8 "with signature" put U+FEFF first; Boost read it into the
        # first key. Now it is skipped: the same run as without it, and a sweep as well.
        settings = "data = spiked\nd = 16\nk = 2\nn = 200\nsteps = 5\n"
        plain = self.write("plain.ini", settings)
        marked = self.write("marked.ini", "\ufeff" + settings)
        for config, store in ((plain, "plain.h5"), (marked, "marked.h5")):
            out = self.run_ssldyn(["run", config, "--store", self.path(store), "-q"], self.dir)
            self.assertEqual(out.returncode, 0, out.stderr)
        with h5py.File(self.path("plain.h5"), "r") as a, h5py.File(self.path("marked.h5")) as b:
            self.assertEqual(list(a["sweeps/single/run"][()]), list(b["sweeps/single/run"][()]))
        sweep = self.write("sweep.ini", "\ufeff[sweep]\nname = marked\n[fixed]\n" + settings)
        out = self.run_ssldyn(["sweep", sweep, "--store", self.path("sweep.h5"), "-q"],
                              self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        with h5py.File(self.path("sweep.h5"), "r") as f:
            self.assertEqual(list(f["sweeps"]), ["marked"])

    def test_missing_config_file(self):
        missing = self.path("missing.ini")
        self.run_bad(missing, names=[missing])
        self.run_bad("--config", missing, names=[missing])

    def test_command_line_overrides_a_bad_config_value(self):
        # Control for the config cases: the same file is fine once the bad key is overridden.
        config = self.write("override.ini", "data = spiked\nd = 16\nn = 200\nsteps = 5\nk = 99\n")
        out = self.run_ssldyn(["run", config, "--k", "2", "--store", self.store, "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        with h5py.File(self.store, "r") as f:
            self.assertEqual(list(f["sweeps/single/k"][()]), [2])
            self.assertIn("k = 2\n", f["sweeps/single"].attrs["config"])

    # --- help, version, overwrite ---------------------------------------------------------

    def test_help_and_version(self):
        before = snapshot(self.dir)
        for args in (["--help"], ["run", "--help"]):
            out = self.run_ssldyn(args, self.dir)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stderr, "")
            self.assertIn("run", out.stdout)
        out = self.run_ssldyn(["run", "--help"], self.dir)
        for option in ("--store", "--overwrite", "--eta_rel", "--dynamics", "--idx_path"):
            self.assertIn(option, out.stdout)
        out = self.run_ssldyn(["--version"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout.strip(), r"^ssldyn \d+\.\d+\.\d+")
        self.assertEqual(len(out.stdout.strip().splitlines()), 1)
        self.assertEqual(snapshot(self.dir), before)  # --help ran nothing

    def test_overwrite_replaces_a_store(self):
        target = self.path("target.h5")
        self.write("target.h5", "not even HDF5\n")
        out = self.run_ssldyn(["run", *FAST, "--store", target, "--overwrite", "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        with h5py.File(target, "r") as f:
            self.assertEqual(int(f.attrs["schema_version"]), 2)
            first = list(f["sweeps/single/run"][()])
            self.assertEqual(len(first), 1)
            self.assertEqual(int(f["sweeps/single/status"][0]), 2)
        # Overwrite a valid store with another run: only the new run is left.
        out = self.run_ssldyn(["run", *FAST, "--seed", "2", "--store", target, "--overwrite",
                               "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        with h5py.File(target, "r") as f:
            second = list(f["sweeps/single/run"][()])
            self.assertEqual(len(second), 1)
            self.assertNotEqual(second, first)
            self.assertEqual(int(f["sweeps/single/status"][0]), 2)
            self.assertEqual(list(f["sweeps/single/seed"][()]), [2])
        # No temporary or partial files left next to it.
        self.assertEqual(sorted(os.listdir(self.dir)), ["afile", "notes.txt", "target.h5"])

    def test_files_of_killed_writers_are_removed_once_their_process_is_gone(self):
        # A merge (or run, or sweep) killed while writing leaves OUT.partial-PID, as large as
        # the store; the next writer of OUT removes those whose process is gone, only those.
        config = self.write("grid.ini", "[sweep]\nname = grid\n[fixed]\n" +
                            "\n".join(f"{FAST[i][2:]} = {FAST[i + 1]}"
                                       for i in range(0, len(FAST), 2) if FAST[i] != "--k") +
                            "\n[axes]\nk = 2, 3\n")
        shards = [self.path(f"shard{i}.h5") for i in range(2)]
        for i, shard in enumerate(shards):
            out = self.run_ssldyn(["sweep", config, "--store", shard, "--shard", f"{i}/2", "-q"],
                                  self.dir)
            self.assertEqual(out.returncode, 0, out.stderr)
        dead = 4194305  # above Linux's largest pid: no process has it
        gone = [f"m.h5.partial-{dead}"]
        kept = [f"m.h5.partial-{os.getpid()}",  # a live writer's (this test's process)
                "m.h5.partial-x1", f"other.h5.partial-{dead}"]  # not a pid; another store's
        for name in gone + kept:
            self.write(name, b"\x89HDF\r\n\x1a\n" + bytes(4096))
        before = set(os.listdir(self.dir))
        out = self.run_ssldyn(["merge", "--store", self.path("m.h5"), *shards], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(set(os.listdir(self.dir)), before - set(gone) | {"m.h5"})
        # The same for a run's store.
        self.write(f"r.h5.partial-{dead}", "left by a killed run\n")
        out = self.run_ssldyn(["run", *FAST, "--store", self.path("r.h5"), "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn(f"r.h5.partial-{dead}", os.listdir(self.dir))

    def test_what_scripts_ask(self):
        # `sweep CONFIG --check` prints the sweep's name after checking the config whole, and
        # writes nothing; `ls STORE --sweeps` prints the names of the store's sweeps, one a
        # line, and nothing else (no header, no list of failed runs).
        config = self.write("failed.ini", "[sweep]\nname = failed\n[fixed]\n" +
                            "\n".join(f"{FAST[i][2:]} = {FAST[i + 1]}"
                                       for i in range(0, len(FAST), 2)) + "\n")
        before = snapshot(self.dir)
        out = self.run_ssldyn(["sweep", config, "--check"], self.dir)
        self.assertEqual((out.returncode, out.stdout, out.stderr), (0, "failed\n", ""))
        self.assertEqual(snapshot(self.dir), before)
        store = self.path("s.h5")
        shutil.copyfile(self.valid_store, store)
        out = self.run_ssldyn(["run", *FAST, "--eta", "1e308", "--sweep", "diverged", "-q",
                               "--store", self.path("d.h5")], self.dir)
        self.assertEqual(out.returncode, 1, out.stderr)
        for path, names in ((store, "single\n"), (self.path("d.h5"), "diverged\n")):
            out = self.run_ssldyn(["ls", path, "--sweeps"], self.dir)
            self.assertEqual((out.returncode, out.stdout, out.stderr), (0, names, ""))
        out = self.run_ssldyn(["sweep", config, "--store", store, "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.run_ssldyn(["ls", store, "--sweeps"], self.dir)
        self.assertEqual(out.stdout, "failed\nsingle\n")
        self.assertIn("failed runs of diverged:", self.run_ssldyn(["ls", self.path("d.h5")],
                                                                  self.dir).stdout)

    def test_store_given_as_a_link_keeps_its_link(self):
        # The store lives in another folder and is reached through a relative link, itself
        # reached through a second link: a new sweep and a run --overwrite land in the real
        # store, and both links stay links to it (they were replaced by regular files).
        os.mkdir(self.path("real"))
        real = self.path("real/store.h5")
        shutil.copyfile(self.valid_store, real)
        os.symlink("real/store.h5", self.path("link.h5"))
        os.symlink("link.h5", self.path("link2.h5"))
        config = self.write("other.ini", "[sweep]\nname = other\n[fixed]\n" +
                            "\n".join(f"{FAST[i][2:]} = {FAST[i + 1]}"
                                       for i in range(0, len(FAST), 2)) + "\n")
        out = self.run_ssldyn(["sweep", config, "--store", self.path("link2.h5"), "-q"],
                              self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(os.readlink(self.path("link.h5")), "real/store.h5")
        self.assertEqual(os.readlink(self.path("link2.h5")), "link.h5")
        with h5py.File(real, "r") as f:
            self.assertEqual(sorted(f["sweeps"]), ["other", "single"])
            self.assertEqual(list(f["sweeps/other/status"][()]), [2])
        out = self.run_ssldyn(["run", *FAST, "--seed", "7", "--store", self.path("link.h5"),
                               "--overwrite", "-q"], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(os.readlink(self.path("link.h5")), "real/store.h5")
        with h5py.File(real, "r") as f:
            self.assertEqual(sorted(f["sweeps"]), ["single"])
            self.assertEqual(list(f["sweeps/single/seed"][()]), [7])
        # Nothing else written: no temporary file beside the link or the target.
        self.assertEqual(sorted(os.listdir(self.path("real"))), ["store.h5"])
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["afile", "link.h5", "link2.h5", "notes.txt", "other.ini", "real"])
        # A link to a store yet to be made: the run makes it at the target.
        os.symlink("real/new.h5", self.path("new-link.h5"))
        out = self.run_ssldyn(["run", *FAST, "--store", self.path("new-link.h5"), "-q"],
                              self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(os.path.islink(self.path("new-link.h5")))
        with h5py.File(self.path("real/new.h5"), "r") as f:
            self.assertEqual(list(f["sweeps"]), ["single"])


if __name__ == "__main__":
    unittest.main()
