"""What `ssldyn run` writes: the store layout of README "The HDF5 store" (schema 2), read back
with h5py, and the recorded metrics recomputed in numpy from the raw datasets they derive from."""

import json
import os
import re
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

from raw_store import RawStore, printed, text

BIN = os.environ.get("SSLDYN_BIN", "ssldyn")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

SPIKED = ["--data", "spiked", "--d", "32", "--k", "3", "--n", "2000", "--steps", "200",
          "--record_every", "10"]
FASHION = ["--n", "500", "--k", "4", "--steps", "50"]  # default data: Fashion-MNIST

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
ADDED_LATER = {"precision": "float64", "temperature": "0.5", "whiten": "false", "init": "gaussian",
               "init_scale": "0", "predictor_rate": "1", "target_rate": "1", "predictor": "linear",
               "stop_gradient": "true"}
METRICS = ("loss", "orthogonality_error", "s2_s1", "effective_rank", "topk_sin_angle")
SIDES = ("gd", "theory")  # gradient descent, the closed-form flow: the prefixes of their series
# The series (run, record) and (run, record, component) of a linear run's sweep.
SERIES = ({"step", "t", "theory_distance"} | {f"{side}_{m}" for side in SIDES for m in METRICS}
          | {f"{side}_{v}" for side in SIDES for v in ("singular_values", "modes")})
# The results per run and eigen-direction (run, component), THEORY 6.5.
COMPONENT_RESULTS = {"rise_time", "rise_time_predicted"}
ENUM_STATUS = {"pending": 0, "running": 1, "done": 2, "failed": 3}


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
        """check(name, k, d, steps, file, sweep, run) for each run, as subtests: sweep its
        RawSweep, run its part of the sweep's datasets (RawSweep.run)."""
        for name, (_, k, d, steps) in RUNS.items():
            with self.subTest(run=name), RawStore(self.stores[name]) as raw:
                sweep = raw.sweep("single")
                self.assertEqual(len(sweep), 1, sweep.ids)
                check(name, k, d, steps, raw.f, sweep, sweep.run(0))

    def eta(self, sweep):
        """The step size used, from the sweep's result column."""
        return float(sweep["eta_used"][0])

    # --- layout -------------------------------------------------------------------------

    def canonical(self, sweep):
        """The run's canonical config text from its settings (config/run_config.cpp): every key
        in the config table's order, keys added later only away from their default."""
        return "".join(f"{key} = {value}\n" for key, value in sweep.config(0).items()
                       if ADDED_LATER.get(key) != value)

    def test_schema_version_and_run_id(self):
        def check(name, k, d, steps, f, sweep, run):
            self.assertEqual(int(f.attrs["schema_version"]), 2)
            run_id = sweep.ids[0]
            self.assertRegex(run_id, r"^[0-9a-f]{16}$")
            self.assertEqual(sweep.group["run"].dtype, np.dtype("S16"))
            # The id is the FNV-1a hash of the canonical config text: the sweep's config for
            # `ssldyn run` (a sweep of one run), printed back from the typed settings.
            self.assertEqual(self.canonical(sweep), text(sweep.group.attrs["config"]))
            self.assertEqual(fnv1a64(self.canonical(sweep).encode()), run_id)

        self.each(check)

    def test_config_seed_and_data(self):
        def check(name, k, d, steps, f, sweep, run):
            config = sweep.config(0)
            args = RUNS[name][0]
            for key, value in zip(args[0::2], args[1::2]):
                self.assertEqual(config[key.lstrip("-")], value, key)
            self.assertEqual(config["k"], str(k))
            self.assertEqual(config["seed"], "1")
            self.assertEqual(sweep.setting("seed", 0), 1)
            self.assertEqual(sweep["seed"].dtype, np.int64)
            if name == "fashion":
                self.assertEqual(sweep.setting("data", 0), "fashion-mnist")
            else:
                self.assertEqual(sweep.setting("data", 0), "spiked")
                self.assertEqual(sweep.setting("d", 0), 32)
            self.assertEqual(int(sweep["status"][0]), 2)  # 2: done

        self.each(check)

    def test_run_sweep_and_status_attributes(self):
        # README "The HDF5 store" (schema 2): provenance (program_version, ...) is on the
        # sweep group; the status ('done' = 2) is the sweep's status dataset, an enum; eta is
        # the result column eta_used.
        version = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                                 env=ENV).stdout.split()[1]

        def check(name, k, d, steps, f, raw, run):
            sweep = raw.group
            for attr in ("config", "run_count", "axes", "program_version", "git_commit",
                         "git_dirty", "mpi_library", "hdf5_library", "mpi_ranks", "group_size",
                         "blas_threads"):
                self.assertIn(attr, sweep.attrs)
            self.assertEqual(text(sweep.attrs["program_version"]), version)
            self.assertIn(version, text(f.attrs["creator"]))
            self.assertEqual(int(sweep.attrs["run_count"]), 1)
            self.assertEqual(text(sweep.attrs["axes"]), "")
            self.assertEqual(int(sweep.attrs["mpi_ranks"]), 1)
            status = sweep["status"][()]
            self.assertEqual(status.shape, (1,))
            self.assertEqual(int(status[0]), 2, "status: 2 = done")
            self.assertEqual(h5py.check_enum_dtype(sweep["status"].dtype), ENUM_STATUS)
            self.assertEqual(sweep["status"].dtype, np.int8)

        self.each(check)

    def test_index_matches_the_run(self):
        # The settings and results (one row per run, for queries) repeat the config and the
        # final records.
        def check(name, k, d, steps, f, sweep, run):
            config = parse_config(text(sweep.group.attrs["config"]))
            # Keys added later are in the canonical config only away from their default.
            for key, default in ADDED_LATER.items():
                config.setdefault(key, default)
            self.assertEqual(set(sweep.settings), set(config))
            for key, value in config.items():
                self.assertEqual(printed(sweep.setting(key, 0)), value, key)
            result = {name: sweep.result(name, 0) for name in sweep.results()}
            self.assertEqual(int(result["final_step"]), steps[-1])
            self.assertEqual(result["final_t"], run["t"][-1])
            for metric in METRICS:
                self.assertEqual(result[f"final_{metric}"], run[f"gd_{metric}"][-1], metric)
                self.assertEqual(result[f"theory_final_{metric}"], run[f"theory_{metric}"][-1],
                                 metric)
            self.assertEqual(result["final_theory_distance"], run["theory_distance"][-1])
            self.assertEqual(result["max_theory_distance"], run["theory_distance"].max())
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
        def check(name, k, d, steps, f, sweep, run):
            records = len(steps)
            group = sweep.group
            series = {n for n, item in group.items()
                      if isinstance(item, h5py.Dataset) and item.ndim >= 2}
            self.assertEqual(series, SERIES | COMPONENT_RESULTS)
            for ds in COMPONENT_RESULTS:
                self.assertEqual(group[ds].shape, (1, k), ds)
            series -= COMPONENT_RESULTS
            for ds in series:
                shape = ((1, records, k) if ds.endswith(("singular_values", "modes"))
                         else (1, records))
                self.assertEqual(group[ds].shape, shape, ds)
                self.assertTrue(np.all(np.isfinite(group[ds][()])), ds)
            self.assertEqual(group["step"].dtype, np.int64)
            np.testing.assert_array_equal(run["step"], steps)
            np.testing.assert_array_equal(group["record"][()], np.arange(records))
            np.testing.assert_array_equal(group["component"][()], np.arange(k))
            self.assertEqual(run["W0"].shape, (k, d))
            self.assertEqual(run["eigenvalues"].shape, (d,))

        self.each(check)

    def test_every_dataset_has_units_and_description(self):
        def check(name, k, d, steps, f, sweep, run):
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
        def check(name, k, d, steps, f, sweep, run):
            ev = run["eigenvalues"]
            self.assertTrue(np.all(np.isfinite(ev)))
            self.assertTrue(np.all(np.diff(ev) <= 0), ev)
            self.assertGreater(ev[0], ev[-1])  # not a constant placeholder
            # lambda_max among the results is the top of this spectrum.
            self.assertEqual(float(sweep["lambda_max"][0]), ev[0])

        self.each(check)

    # --- recomputed metrics ---------------------------------------------------------------

    def test_time_is_eta_times_step(self):
        def check(name, k, d, steps, f, sweep, run):
            eta = self.eta(sweep)
            ev = run["eigenvalues"]
            # eta comes from eta_rel = 0.1 = eta * lambda_max(C): one division, so a few ulps.
            self.assertAlmostEqual(eta * ev[0] / 0.1, 1.0, delta=1e-14)
            # t = eta * step (gradient descent's and the flow's records alike), one rounding
            # (1e-15); 1e-13 also allows summing eta step by step over at most 200 steps.
            np.testing.assert_allclose(run["t"], eta * run["step"], rtol=1e-13, atol=0)

        self.each(check)

    def test_s2_s1_and_effective_rank_from_singular_values(self):
        def check(name, k, d, steps, f, sweep, run):
            for side in SIDES:
                s = run[f"{side}_singular_values"]
                self.assertTrue(np.all(s >= 0))
                self.assertTrue(np.all(np.diff(s, axis=1) <= 0), "singular values descending")
                # Same doubles, one division: exact up to an ulp or two.
                np.testing.assert_allclose(run[f"{side}_s2_s1"], s[:, 1] / s[:, 0],
                                           rtol=1e-14, atol=0)
                p = s / s.sum(axis=1, keepdims=True)
                plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
                erank = np.exp(-plogp.sum(axis=1))
                # A sum of k terms, a log and an exp: rounding of order 1e-15 relative.
                np.testing.assert_allclose(run[f"{side}_effective_rank"], erank, rtol=1e-12)
                self.assertTrue(np.all(erank <= k + 1e-12))

        self.each(check)

    def test_orthogonality_error_from_singular_values(self):
        def check(name, k, d, steps, f, sweep, run):
            for side in SIDES:
                s = run[f"{side}_singular_values"]
                # ||W W^T - I||_F = sqrt(sum (s_i^2 - 1)^2). Computed from W or from its SVD
                # these differ by rounding: eps * k * s_1^2 absolute, hence the atol scaled by
                # s_1^2 (naive runs grow to s_1 ~ 1e15) and a loose rtol.
                expected = np.sqrt(((s ** 2 - 1) ** 2).sum(axis=1))
                atol = 1e-13 * np.maximum(1.0, s[:, 0] ** 2)
                err = run[f"{side}_orthogonality_error"]
                self.assertTrue(np.all(np.abs(err - expected) <= atol + 1e-10 * expected),
                                f"{side}: {err} vs {expected}")

        self.each(check)

    def test_orthogonal_runs_stay_orthonormal(self):
        def check(name, k, d, steps, f, sweep, run):
            if name not in ORTHOGONAL_RUNS:
                return
            w0 = run["W0"]
            # Orthonormal rows up to round-off (k*d*eps ~ 1e-13 at most for d = 784).
            np.testing.assert_allclose(w0 @ w0.T, np.eye(k), rtol=0, atol=1e-12)
            self.assertTrue(np.all(run["gd_orthogonality_error"] < 1e-12))
            self.assertTrue(np.all(run["theory_orthogonality_error"] < 1e-12))
            np.testing.assert_allclose(run["gd_singular_values"], 1.0, atol=1e-12)

        self.each(check)

    def test_step_zero_is_the_initial_weights(self):
        def check(name, k, d, steps, f, sweep, run):
            w0 = run["W0"]
            s0 = np.linalg.svd(w0, compute_uv=False)
            # LAPACK in ssldyn and in numpy: backward-stable SVDs agree to ~1e-15 relative.
            np.testing.assert_allclose(run["gd_singular_values"][0], s0, rtol=1e-12)
            np.testing.assert_allclose(run["gd_orthogonality_error"][0],
                                       np.linalg.norm(w0 @ w0.T - np.eye(k)), rtol=1e-9,
                                       atol=1e-13)
            self.assertEqual(run["step"][0], 0)
            self.assertEqual(run["t"][0], 0.0)

        self.each(check)

    def test_trajectory_and_theory_agree_at_step_zero(self):
        def check(name, k, d, steps, f, sweep, run):
            # Both start from W0: only round-off may differ (1e-10 relative is generous).
            for ds in ("loss", "s2_s1", "effective_rank", "topk_sin_angle",
                       "orthogonality_error", "singular_values"):
                np.testing.assert_allclose(run[f"gd_{ds}"][0], run[f"theory_{ds}"][0],
                                           rtol=1e-10, atol=1e-13, err_msg=ds)
            self.assertLess(run["theory_distance"][0], 1e-10)
            self.assertGreater(run["theory_distance"][-1], 0.0)  # a real distance, not zeros

        self.each(check)

    def test_modes_between_the_loss_and_the_singular_values(self):
        # m_i = ||W v_i||, i <= k, and L = -sum_j lambda_j ||W v_j||^2 over all d directions,
        # sum_j ||W v_j||^2 = ||W||_F^2 = sum s^2. The directions beyond k then hold the rest:
        # 0 <= rest = sum s^2 - sum m^2 and lambda_d rest <= -L - sum lambda_i m_i^2 <=
        # lambda_{k+1} rest. Slack 1e-10 relative for the round-off of each sum.
        def check(name, k, d, steps, f, sweep, run):
            ev = run["eigenvalues"]
            for side in SIDES:
                m2 = run[f"{side}_modes"] ** 2
                fro2 = (run[f"{side}_singular_values"] ** 2).sum(axis=1)
                rest = fro2 - m2.sum(axis=1)
                slack = 1e-10 * np.abs(ev).max() * fro2
                self.assertTrue(np.all(rest >= -1e-10 * fro2), side)
                beyond = -run[f"{side}_loss"] - m2 @ ev[:k]
                self.assertTrue(np.all(beyond <= ev[k] * rest + slack), side)
                self.assertTrue(np.all(beyond >= ev[-1] * rest - slack), side)
            # Not the singular values under another name: W0 is not aligned with C.
            self.assertGreater(np.abs(run["gd_modes"][0] - run["gd_singular_values"][0]).max(),
                               1e-3)

        self.each(check)

    def test_rise_times_from_the_recorded_modes(self):
        # rise_time recomputed in numpy: the first t at which m_i^2 reaches half its last
        # value, linear between records; no prediction for this loss (NaN).
        def check(name, k, d, steps, f, sweep, run):
            t, u = run["t"], run["gd_modes"] ** 2
            for i in range(k):
                half = u[-1, i] / 2
                r = int(np.argmax(u[:, i] >= half))
                expected = t[0] if r == 0 else np.interp(half, u[r - 1:r + 1, i],
                                                         t[r - 1:r + 1])
                self.assertAlmostEqual(run["rise_time"][i], expected, delta=1e-12 * t[-1])
            self.assertTrue(np.all(np.isnan(run["rise_time_predicted"])))

        self.each(check)

    def test_query_shows_the_modes_as_stored(self):
        # `ssldyn query --metric mode_<i>`: the i-th component of gd_modes (theory_mode_<i>:
        # of theory_modes), at the end and along the trajectory, bit for bit (JSON's repr).
        def check(name, k, d, steps, f, sweep, run):
            def query(*extra):
                out = subprocess.run([BIN, "query", self.stores[name], "--format", "json",
                                      "--metric", f"mode_1,theory_mode_{k}", *extra],
                                     capture_output=True, text=True, check=True, env=ENV)
                return json.loads(out.stdout)
            (final,) = query()
            self.assertEqual(final["final_mode_1"], run["gd_modes"][-1, 0])
            self.assertEqual(final[f"theory_final_mode_{k}"], run["theory_modes"][-1, k - 1])
            rows = query("--at", "all")
            self.assertEqual([r["trajectory/mode_1"] for r in rows], list(run["gd_modes"][:, 0]))
            self.assertEqual([r[f"theory/mode_{k}"] for r in rows],
                             list(run["theory_modes"][:, k - 1]))

        self.each(check)

    def test_loss_within_spectral_bounds(self):
        # L = -Tr(W C W^T): for any W, lambda_min ||W||_F^2 <= Tr <= lambda_max ||W||_F^2, and
        # for orthonormal rows Tr lies between the sums of the k smallest and k largest
        # eigenvalues (Ky Fan). Slack 1e-10 relative for the round-off in Tr and in the
        # eigenvalues.
        def check(name, k, d, steps, f, sweep, run):
            ev = run["eigenvalues"]
            for side in SIDES:
                trace = -run[f"{side}_loss"]
                fro2 = (run[f"{side}_singular_values"] ** 2).sum(axis=1)
                slack = 1e-10 * np.abs(ev).max() * fro2
                self.assertTrue(np.all(trace <= ev[0] * fro2 + slack), side)
                self.assertTrue(np.all(trace >= ev[-1] * fro2 - slack), side)
                if name in ORTHOGONAL_RUNS:
                    self.assertTrue(np.all(trace <= ev[:k].sum() + slack), side)
                    self.assertTrue(np.all(trace >= ev[-k:].sum() - slack), side)

        self.each(check)

    # --- tools and output -----------------------------------------------------------------

    def test_h5dump_reads_the_store(self):
        def check(name, k, d, steps, f, sweep, run):
            out = subprocess.run(["h5dump", "-H", self.stores[name]], capture_output=True,
                                 text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn('GROUP "single"', out.stdout)
            self.assertIn('DATASET "gd_singular_values"', out.stdout)

        self.each(check)

    def test_summary_names_run_and_store(self):
        def check(name, k, d, steps, f, sweep, run):
            out = self.stdout[name]
            run_id = sweep.ids[0]
            self.assertRegex(out, r"(^|\n)run " + re.escape(run_id) + r"\b")
            self.assertIn(self.stores[name], out)

        self.each(check)


if __name__ == "__main__":
    unittest.main()
