"""analysis.store reads what `ssldyn run` writes, and refuses files of another schema."""

import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.environ.get("SSLDYN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
from analysis.store import Store, StoreError  # noqa: E402

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")


class AnalysisStoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "s.h5")

    def tearDown(self):
        self.tmp.cleanup()

    def test_reads_a_run(self):
        subprocess.run([BIN, "run", "--data", "spiked", "--d", "10", "--k", "2", "--n", "300",
                        "--steps", "40", "--record_every", "10", "--store", self.path, "-q"],
                       check=True, capture_output=True)
        with Store(self.path) as store:
            self.assertEqual(store.sweeps(), ["single"])
            runs = list(store.runs())
            self.assertEqual(len(runs), 1)
            run = runs[0]
            self.assertEqual(run.status, "done")
            self.assertEqual(run.config["k"], "2")
            self.assertEqual(run.w0.shape, (2, 10))
            np.testing.assert_array_equal(run.trajectory["step"], [0, 10, 20, 30, 40])
            # orthonormal rows from the retraction: round-off only
            np.testing.assert_allclose(run.w0 @ run.w0.T, np.eye(2), atol=1e-13)

    def test_refuses_other_schemas(self):
        with h5py.File(self.path, "w") as f:
            f.attrs["schema_version"] = 99
        with self.assertRaisesRegex(StoreError, "schema_version 99"):
            Store(self.path)
        with h5py.File(self.path, "w") as f:
            f.create_group("x")
        with self.assertRaisesRegex(StoreError, "not an ssldyn store"):
            Store(self.path)


if __name__ == "__main__":
    unittest.main()
