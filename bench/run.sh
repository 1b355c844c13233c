#!/usr/bin/env bash
# One orthogonal GD step of ssldyn (C++) against the same step in plain numpy, with 1 and 2
# BLAS threads, and a combined comparison against the targets.
#
# Usage: bench/run.sh [--quick] [--threads "1 2"] [BUILD_DIR] [-- FLAGS...]
#   BUILD_DIR    CMake build folder, absolute or relative to the source root (default
#                build-bench). Configured (tests off) if it has no cache, then built (a no-op
#                when up to date).
#   --quick      small sizes, a few seconds per program (passed to both programs)
#   --threads L  BLAS thread counts to run, space separated (default "1 2")
#   --compare-only  run nothing: print the comparison of the CSV files already in
#                BUILD_DIR/bench-results/ (for runs made one thread count at a time)
#   -- FLAGS     passed to both programs; both take --warmup N, --reps N, --dgemm N,
#                --dgemm-reps N, --data fashion,spiked, --k LIST, --fashion-n N, --idx FILE,
#                --spiked-d N, --spiked-n N, --paths LIST, --retractions qr,polar
#                (`ssldyn_bench_step --help` describes them)
# Default sizes: Fashion-MNIST d = 784, n = 60000 and spiked d = 4096, n = 20000, k = 16, 64,
# 256, both retractions; a full run takes about 15 minutes and 5 GiB of memory.
#
# Environment: OPENBLAS_NUM_THREADS is set per run. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
# are unset for both programs (set on some processors, they slow a current numpy), so the
# comparison is fair; the script says whether they were set. PYTHON overrides the interpreter
# (default /usr/bin/python3: Debian's numpy; a pyenv python3 on PATH may lack it).
#
# Output: each program's table, CSV files in BUILD_DIR/bench-results/, then the comparison:
# C++ covariance-path step against numpy data-path step (target >= 50x), and the data-path
# step as a percentage of the same program's dgemm rate for k >= 64 (target >= 80%).
set -euo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=build-bench
quick=()
threads_list="1 2"
compare_only=0
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=(--quick); shift ;;
        --threads) threads_list=$2; shift 2 ;;
        --compare-only) compare_only=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
        *) build_dir=$1; shift ;;
    esac
done
[[ $build_dir = /* ]] || build_dir=$src_dir/$build_dir
python=${PYTHON:-/usr/bin/python3}

results=$build_dir/bench-results
csvs=()
if [[ $compare_only = 1 ]]; then
    shopt -s nullglob
    csvs=("$results"/cpp_t*.csv "$results"/numpy_t*.csv)
    [[ ${#csvs[@]} -gt 0 ]] || { echo "run.sh: no CSV files in $results" >&2; exit 2; }
fi

if [[ $compare_only = 0 && ! -f $build_dir/CMakeCache.txt ]]; then
    cmake -S "$src_dir" -B "$build_dir" -DSSLDYN_BUILD_TESTS=OFF -DSSLDYN_BUILD_BENCH=ON
fi
[[ $compare_only = 1 ]] || cmake --build "$build_dir" --target ssldyn_bench_step -j2
bench=$build_dir/bench/ssldyn_bench_step
mkdir -p "$results"

for var in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if [[ -n ${!var+x} ]]; then
        echo "# $var=${!var} is set in this environment: unset for both benchmarks"
    else
        echo "# $var is not set"
    fi
done

# Other work on the machine skews the figures; the load average is printed with each run.
run() {
    echo
    echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$1" "${@:2}"
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

[[ $compare_only = 1 ]] && threads_list=""
for t in $threads_list; do
    run "$t" "$bench" "${quick[@]}" "${extra[@]}" --csv "$results/cpp_t$t.csv"
    csvs+=("$results/cpp_t$t.csv")
    run "$t" "$python" "$src_dir/bench/numpy_step.py" "${quick[@]}" "${extra[@]}" \
        --csv "$results/numpy_t$t.csv"
    csvs+=("$results/numpy_t$t.csv")
done

echo
"$python" - "${csvs[@]}" <<'EOF'
import csv
import sys

rows = {}
for path in sys.argv[1:]:
    with open(path) as f:
        for r in csv.DictReader(f):
            key = (r["impl"], int(r["threads"]), r["data"], int(r["k"]), r["path"], r["retraction"])
            rows[key] = r


def get(impl, t, data, k, path, retr, field):
    r = rows.get((impl, t, data, k, path, retr))
    return float(r[field]) if r else None


def fmt(v, spec, width):
    return format(v, spec).rjust(width) if v is not None else "-".rjust(width)


# The reference is the better of each program's start and end dgemm: contention from other
# work only ever lowers a rate.
dgemm, drift = {}, {}
for (i, t, data, k, path, retr), r in rows.items():
    if path == "dgemm":
        dgemm.setdefault((i, t), []).append(float(r["gflops"]))
for key, rates in dgemm.items():
    drift[key] = 100.0 * (max(rates) - min(rates)) / max(rates)
    dgemm[key] = max(rates)
print("# dgemm rate (GFLOP/s, best of start and end; spread in brackets): " +
      ", ".join(f"{i} {t} thr {dgemm[i, t]:.1f} ({drift[i, t]:.0f}%)" for i, t in sorted(dgemm)))
if any(v > 10 for v in drift.values()):
    print("# WARNING: a dgemm rate moved by more than 10% during a run: the machine was busy")


def pct(impl, t, data, k, path, retr):
    rate = get(impl, t, data, k, path, retr, "gflops")
    ref = dgemm.get((impl, t))
    return 100.0 * rate / ref if rate is not None and ref else None


print("# times are best of reps; ratio = numpy data step / C++ covariance step (target >= 50);")
print("# %dg = step rate as % of the same program's dgemm rate (target >= 80 for k >= 64)")
print("# (the tables above use the start dgemm; this one the better of start and end)")
head = (f"{'thr':>3} {'data':<8} {'d':>5} {'n':>6} {'k':>4} {'retr':<5}"
        f" {'C++cov_s':>9} {'np_data_s':>9} {'ratio':>7} {'ok':>3}"
        f" {'C++data_s':>9} {'%dg':>5} {'ok':>3} {'np%dg':>5} {'C++/np':>6}"
        f" {'wide%dg':>7} {'tall%dg':>7} {'np_cov_s':>9} {'theory_s':>9}")
print(head)
met = {"ratio": [0, 0], "pct": [0, 0]}
cases = sorted({(t, data, int(rows[key]["d"]), int(rows[key]["n"]), k, retr)
                for key in rows for (i, t, data, k, path, retr) in [key]
                if i == "cpp" and path == "data"})
for t, data, d, n, k, retr in cases:
    cov = get("cpp", t, data, k, "covariance", retr, "best_s")
    np_data = get("numpy", t, data, k, "data", retr, "best_s")
    cpp_data = get("cpp", t, data, k, "data", retr, "best_s")
    cpp_pct = pct("cpp", t, data, k, "data", retr)
    ratio = np_data / cov if np_data and cov else None
    ok_ratio = ok_pct = ""
    if ratio is not None:
        ok_ratio = "yes" if ratio >= 50 else "NO"
        met["ratio"][0] += ratio >= 50
        met["ratio"][1] += 1
    if k >= 64 and cpp_pct is not None:
        ok_pct = "yes" if cpp_pct >= 80 else "NO"
        met["pct"][0] += cpp_pct >= 80
        met["pct"][1] += 1
    print(f"{t:>3} {data:<8} {d:>5} {n:>6} {k:>4} {retr:<5}"
          f" {fmt(cov, '.3e', 9)} {fmt(np_data, '.3e', 9)} {fmt(ratio, '.1f', 7)} {ok_ratio:>3}"
          f" {fmt(cpp_data, '.3e', 9)} {fmt(cpp_pct, '.1f', 5)} {ok_pct:>3}"
          f" {fmt(pct('numpy', t, data, k, 'data', retr), '.1f', 5)}"
          f" {fmt(np_data / cpp_data if np_data and cpp_data else None, '.2f', 6)}"
          f" {fmt(pct('cpp', t, data, k, 'prod_wide', '-'), '.1f', 7)}"
          f" {fmt(pct('cpp', t, data, k, 'prod_tall', '-'), '.1f', 7)}"
          f" {fmt(get('numpy', t, data, k, 'covariance', retr, 'best_s'), '.3e', 9)}"
          f" {fmt(get('cpp', t, data, k, 'theory', '-', 'best_s'), '.3e', 9)}")
print("# C++/np: numpy data step time / C++ data step time (> 1: C++ faster)")
print("# wide%dg, tall%dg: the C++ data step's two BLAS calls alone, as % of dgemm, with"
      " k x 3n features (BLAS m = k) and with 3n x k features (m = 3n, m = d)")
print(f"# targets met: covariance-vs-numpy ratio >= 50 in {met['ratio'][0]}/{met['ratio'][1]}"
      f" cases; data step >= 80% of dgemm (k >= 64) in {met['pct'][0]}/{met['pct'][1]} cases")
EOF
