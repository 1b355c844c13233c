"""What `ssldyn run` writes: the store layout of README "The HDF5 store", read back with h5py,
and the recorded metrics recomputed in numpy from the raw datasets they derive from."""

import os
import re
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

SPIKED = ["--data", "spiked", "--d", "32", "--k", "3", "--n", "2000", "--steps", "200",
          "--record_every", "10"]
FASHION = ["--n", "500", "--k", "4", "--steps", "50"]  # default data: Fashion-MNIST
FASHION_FILE = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

# name -> (arguments, k, d, expected record steps)
RUNS = {
    "orthogonal": (SPIKED + ["--dynamics", "orthogonal"], 3, 32, list(range(0, 201, 10))),
    "sphere": (SPIKED + ["--dynamics", "sphere"], 3, 32, list(range(0, 201, 10))),
    "naive": (SPIKED + ["--dynamics", "naive"], 3, 32, list(range(0, 201, 10))),
    # record_every defaults to 20; the last step is always recorded.
    "fashion": (FASHION, 4, 784, [0, 20, 40, 50]),
}
ORTHOGONAL_RUNS = ("orthogonal", "fashion")  # dynamics defaults to orthogonal

# Keys of the run config added after stores were written, with their defaults (run_config.hpp).
ADDED_LATER = {"precision": "float64"}
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")
SIDE_DATASETS = ("step", "t") + METRICS + ("singular_values",)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def fnv1a64(data):
    """The run id scheme of config/run_config.cpp: 64-bit FNV-1a of the canonical text."""
    h = 0xcbf29ce484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def parse_config(config_text):
    out = {}
    for line in config_text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


class StoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.stores, cls.stdout = {}, {}
        procs = {}
        # The four runs are independent: run them side by side.
        for name, (args, _, _, _) in RUNS.items():
            store = os.path.join(cls.tmp.name, f"{name}.h5")
            cls.stores[name] = store
            procs[name] = subprocess.Popen([BIN, "run", *args, "--store", store, "-q"],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True, env=ENV, cwd=cls.tmp.name)
        cls.failures = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            cls.stdout[name] = out
            if proc.returncode != 0:
                cls.failures[name] = f"exit {proc.returncode}: {err}"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        self.assertEqual(self.failures, {}, "ssldyn run failed")

    def each(self, check):
        """check(name, k, d, steps, file, run id, run group) for each run, as subtests."""
        for name, (_, k, d, steps) in RUNS.items():
            with self.subTest(run=name), h5py.File(self.stores[name], "r") as f:
                runs = f["sweeps/single/runs"]
                self.assertEqual(len(runs), 1, list(runs))
                run_id = next(iter(runs))
                check(name, k, d, steps, f, run_id, runs[run_id])

    def eta(self, f):
        """The step size used, from the sweep's index (present whatever the run attributes)."""
        return float(f["sweeps/single/index/result/eta_used"][0])

    # --- layout -------------------------------------------------------------------------

    def test_schema_version_and_run_id(self):
        def check(name, k, d, steps, f, run_id, run):
            self.assertEqual(int(f.attrs["schema_version"]), 1)
            self.assertRegex(run_id, r"^[0-9a-f]{16}$")
            self.assertEqual(text(run.attrs["config_hash"]), run_id)
            self.assertEqual(text(f["sweeps/single/index/run_id"][0]), run_id)
            # The id is the FNV-1a hash of the canonical config text stored with the run.
            self.assertEqual(fnv1a64(text(run.attrs["config"]).encode()), run_id)

        self.each(check)

    def test_config_seed_and_data_source(self):
        def check(name, k, d, steps, f, run_id, run):
            config = parse_config(text(run.attrs["config"]))
            args = RUNS[name][0]
            for key, value in zip(args[0::2], args[1::2]):
                self.assertEqual(config[key.lstrip("-")], value, key)
            self.assertEqual(config["k"], str(k))
            self.assertEqual(config["seed"], "1")
            self.assertEqual(int(run.attrs["seed"]), 1)
            source = text(run.attrs["data_source"])
            if name == "fashion":
                self.assertEqual(source, FASHION_FILE)
            else:
                self.assertIn("spiked", source)
                self.assertIn("d = 32", source)
            self.assertEqual(int(f["sweeps/single/status"][0]), 2)  # 2: done

        self.each(check)

    def test_run_sweep_and_status_attributes(self):
        # README "The HDF5 store" (schema 1): the run group holds config, config_hash, row,
        # seed, data_source; provenance (program_version, ...) is on the sweep group; the
        # status ('done' = 2) is the sweep's status dataset; eta is index/result/eta_used.
        version = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                                 env=ENV).stdout.split()[1]

        def check(name, k, d, steps, f, run_id, run):
            self.assertTrue({"config", "config_hash", "row", "seed", "data_source"}
                            <= set(run.attrs), sorted(run.attrs))
            self.assertEqual(int(run.attrs["row"]), 0)
            sweep = f["sweeps/single"]
            for attr in ("config", "run_count", "axes", "program_version", "git_commit",
                         "git_dirty", "mpi_library", "hdf5_library", "mpi_ranks", "group_size",
                         "blas_threads"):
                self.assertIn(attr, sweep.attrs)
            self.assertEqual(text(sweep.attrs["program_version"]), version)
            self.assertIn(version, text(f.attrs["creator"]))
            self.assertEqual(int(sweep.attrs["run_count"]), 1)
            self.assertEqual(text(sweep.attrs["axes"]), "")
            self.assertEqual(int(sweep.attrs["mpi_ranks"]), 1)
            # A run's config is the sweep's config for `ssldyn run` (a sweep of one run).
            self.assertEqual(text(sweep.attrs["config"]), text(run.attrs["config"]))
            status = sweep["status"][()]
            self.assertEqual(status.shape, (1,))
            self.assertEqual(int(status[0]), 2, "status: 2 = done")
            self.assertIn("2 done", text(sweep["status"].attrs["description"]))

        self.each(check)

    def test_index_matches_the_run(self):
        # The index (one row per run, for queries) repeats the config and the final records.
        def check(name, k, d, steps, f, run_id, run):
            index = f["sweeps/single/index"]
            config = parse_config(text(run.attrs["config"]))
            # Keys added later are in the canonical config only away from their default.
            for key, default in ADDED_LATER.items():
                config.setdefault(key, default)
            self.assertEqual(set(index["config"]), set(config))
            for key, value in config.items():
                self.assertEqual(text(index["config"][key][0]), value, key)
            result = {name: column[0] for name, column in index["result"].items()}
            tr, th = run["trajectory"], run["theory"]
            self.assertEqual(int(result["final_step"]), steps[-1])
            self.assertEqual(result["final_t"], tr["t"][-1])
            for metric in METRICS:
                self.assertEqual(result[f"final_{metric}"], tr[metric][-1], metric)
                self.assertEqual(result[f"theory_final_{metric}"], th[metric][-1], metric)
            self.assertEqual(result["final_theory_distance"], tr["theory_distance"][-1])
            self.assertEqual(result["max_theory_distance"], tr["theory_distance"][()].max())
            self.assertEqual(int(result["failed_step"]), -1)
            self.assertEqual(text(result["failure"]), "")
            # eta * lambda_max, one multiplication: an ulp or two.
            self.assertAlmostEqual(result["eta_lambda_max"] / (result["eta_used"]
                                                                * result["lambda_max"]), 1.0,
                                   delta=1e-15)
            expected = "polar" if name in ORTHOGONAL_RUNS else None  # auto: polar for k <= 32
            if expected:
                self.assertEqual(text(result["retraction_used"]), expected)
            self.assertEqual(text(result["gradient_path_used"]), "covariance")

        self.each(check)

    def test_datasets_and_shapes(self):
        def check(name, k, d, steps, f, run_id, run):
            records = len(steps)
            for side, extra in (("trajectory", {"theory_distance"}), ("theory", set())):
                group = run[side]
                self.assertEqual(set(group), set(SIDE_DATASETS) | extra, side)
                for ds in set(SIDE_DATASETS) - {"singular_values"} | extra:
                    self.assertEqual(group[ds].shape, (records,), f"{side}/{ds}")
                self.assertEqual(group["singular_values"].shape, (records, k))
                self.assertEqual(group["step"].dtype, np.int64)
                np.testing.assert_array_equal(group["step"][()], steps)
                for ds in group:
                    self.assertTrue(np.all(np.isfinite(group[ds][()])), f"{side}/{ds}")
            self.assertEqual(run["init/W0"].shape, (k, d))
            self.assertEqual(run["spectrum/eigenvalues"].shape, (d,))

        self.each(check)

    def test_every_dataset_has_units_and_description(self):
        def check(name, k, d, steps, f, run_id, run):
            datasets = []
            f.visititems(lambda path, obj: datasets.append((path, obj))
                         if isinstance(obj, h5py.Dataset) else None)
            self.assertGreater(len(datasets), 20)
            for path, ds in datasets:
                for attr in ("units", "description"):
                    self.assertIn(attr, ds.attrs, path)
                    self.assertTrue(text(ds.attrs[attr]).strip(), f"{path}: empty {attr}")

        self.each(check)

    def test_spectrum_descending(self):
        def check(name, k, d, steps, f, run_id, run):
            ev = run["spectrum/eigenvalues"][()]
            self.assertTrue(np.all(np.isfinite(ev)))
            self.assertTrue(np.all(np.diff(ev) <= 0), ev)
            self.assertGreater(ev[0], ev[-1])  # not a constant placeholder
            # lambda_max in the index is the top of this spectrum.
            self.assertEqual(float(f["sweeps/single/index/result/lambda_max"][0]), ev[0])

        self.each(check)

    # --- recomputed metrics ---------------------------------------------------------------

    def test_time_is_eta_times_step(self):
        def check(name, k, d, steps, f, run_id, run):
            eta = self.eta(f)
            ev = run["spectrum/eigenvalues"][()]
            # eta comes from eta_rel = 0.1 = eta * lambda_max(C): one division, so a few ulps.
            self.assertAlmostEqual(eta * ev[0] / 0.1, 1.0, delta=1e-14)
            for side in ("trajectory", "theory"):
                step = run[side]["step"][()]
                # t = eta * step, one rounding (1e-15); 1e-13 also allows summing eta step by
                # step over at most 200 steps.
                np.testing.assert_allclose(run[side]["t"][()], eta * step, rtol=1e-13, atol=0)

        self.each(check)

    def test_s2_s1_and_effective_rank_from_singular_values(self):
        def check(name, k, d, steps, f, run_id, run):
            for side in ("trajectory", "theory"):
                s = run[side]["singular_values"][()]
                self.assertTrue(np.all(s >= 0))
                self.assertTrue(np.all(np.diff(s, axis=1) <= 0), "singular values descending")
                # Same doubles, one division: exact up to an ulp or two.
                np.testing.assert_allclose(run[side]["s2_s1"][()], s[:, 1] / s[:, 0],
                                           rtol=1e-14, atol=0)
                p = s / s.sum(axis=1, keepdims=True)
                plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
                erank = np.exp(-plogp.sum(axis=1))
                # A sum of k terms, a log and an exp: rounding of order 1e-15 relative.
                np.testing.assert_allclose(run[side]["effective_rank"][()], erank, rtol=1e-12)
                self.assertTrue(np.all(erank <= k + 1e-12))

        self.each(check)

    def test_orthogonality_error_from_singular_values(self):
        def check(name, k, d, steps, f, run_id, run):
            for side in ("trajectory", "theory"):
                s = run[side]["singular_values"][()]
                # ||W W^T - I||_F = sqrt(sum (s_i^2 - 1)^2). Computed from W or from its SVD
                # these differ by rounding: eps * k * s_1^2 absolute, hence the atol scaled by
                # s_1^2 (naive runs grow to s_1 ~ 1e15) and a loose rtol.
                expected = np.sqrt(((s ** 2 - 1) ** 2).sum(axis=1))
                atol = 1e-13 * np.maximum(1.0, s[:, 0] ** 2)
                err = run[side]["orthogonality_error"][()]
                self.assertTrue(np.all(np.abs(err - expected) <= atol + 1e-10 * expected),
                                f"{side}: {err} vs {expected}")

        self.each(check)

    def test_orthogonal_runs_stay_orthonormal(self):
        def check(name, k, d, steps, f, run_id, run):
            if name not in ORTHOGONAL_RUNS:
                return
            w0 = run["init/W0"][()]
            # Orthonormal rows up to round-off (k*d*eps ~ 1e-13 at most for d = 784).
            np.testing.assert_allclose(w0 @ w0.T, np.eye(k), rtol=0, atol=1e-12)
            self.assertTrue(np.all(run["trajectory/orthogonality_error"][()] < 1e-12))
            self.assertTrue(np.all(run["theory/orthogonality_error"][()] < 1e-12))
            np.testing.assert_allclose(run["trajectory/singular_values"][()], 1.0, atol=1e-12)

        self.each(check)

    def test_step_zero_is_the_initial_weights(self):
        def check(name, k, d, steps, f, run_id, run):
            w0 = run["init/W0"][()]
            s0 = np.linalg.svd(w0, compute_uv=False)
            # LAPACK in ssldyn and in numpy: backward-stable SVDs agree to ~1e-15 relative.
            np.testing.assert_allclose(run["trajectory/singular_values"][0], s0, rtol=1e-12)
            np.testing.assert_allclose(run["trajectory/orthogonality_error"][0],
                                       np.linalg.norm(w0 @ w0.T - np.eye(k)), rtol=1e-9,
                                       atol=1e-13)
            self.assertEqual(run["trajectory/step"][0], 0)
            self.assertEqual(run["trajectory/t"][0], 0.0)

        self.each(check)

    def test_trajectory_and_theory_agree_at_step_zero(self):
        def check(name, k, d, steps, f, run_id, run):
            tr, th = run["trajectory"], run["theory"]
            # Both start from W0: only round-off may differ (1e-10 relative is generous).
            for ds in ("loss", "s2_s1", "effective_rank", "topk_sin_angle",
                       "orthogonality_error"):
                np.testing.assert_allclose(tr[ds][0], th[ds][0], rtol=1e-10, atol=1e-13,
                                           err_msg=ds)
            np.testing.assert_allclose(tr["singular_values"][0], th["singular_values"][0],
                                       rtol=1e-10)
            np.testing.assert_array_equal(tr["step"][()], th["step"][()])
            np.testing.assert_array_equal(tr["t"][()], th["t"][()])
            self.assertLess(tr["theory_distance"][0], 1e-10)
            self.assertGreater(tr["theory_distance"][-1], 0.0)  # a real distance, not zeros

        self.each(check)

    def test_loss_within_spectral_bounds(self):
        # L = -Tr(W C W^T): for any W, lambda_min ||W||_F^2 <= Tr <= lambda_max ||W||_F^2, and
        # for orthonormal rows Tr lies between the sums of the k smallest and k largest
        # eigenvalues (Ky Fan). Slack 1e-10 relative for the round-off in Tr and in the
        # eigenvalues.
        def check(name, k, d, steps, f, run_id, run):
            ev = run["spectrum/eigenvalues"][()]
            for side in ("trajectory", "theory"):
                trace = -run[side]["loss"][()]
                fro2 = (run[side]["singular_values"][()] ** 2).sum(axis=1)
                slack = 1e-10 * np.abs(ev).max() * fro2
                self.assertTrue(np.all(trace <= ev[0] * fro2 + slack), side)
                self.assertTrue(np.all(trace >= ev[-1] * fro2 - slack), side)
                if name in ORTHOGONAL_RUNS:
                    self.assertTrue(np.all(trace <= ev[:k].sum() + slack), side)
                    self.assertTrue(np.all(trace >= ev[-k:].sum() - slack), side)

        self.each(check)

    # --- tools and output -----------------------------------------------------------------

    def test_h5dump_reads_the_store(self):
        def check(name, k, d, steps, f, run_id, run):
            out = subprocess.run(["h5dump", "-H", self.stores[name]], capture_output=True,
                                 text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(f'GROUP "{run_id}"', out.stdout)
            self.assertIn('DATASET "singular_values"', out.stdout)

        self.each(check)

    def test_summary_names_run_and_store(self):
        def check(name, k, d, steps, f, run_id, run):
            out = self.stdout[name]
            self.assertRegex(out, r"(^|\n)run " + re.escape(run_id) + r"\b")
            self.assertIn(self.stores[name], out)

        self.each(check)


if __name__ == "__main__":
    unittest.main()
