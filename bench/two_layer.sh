#!/usr/bin/env bash
# One full-batch GD step of the two-layer tanh model in ssldyn (C++) against the same step in
# PyTorch (autograd + QR retraction), float64, the same thread count, and the comparison
# against the target (C++ at least 1.5x faster at every h).
#
# Usage: bench/two_layer.sh [--quick] [--threads "1 2"] [--sizes L] [BUILD_DIR] [-- FLAGS...]
#   BUILD_DIR       CMake build folder, absolute or relative to the source root (default
#                   build). Configured (tests off) if it has no cache, then built (a no-op when
#                   up to date).
#   --quick         small sizes, a few seconds per program (passed to both programs)
#   --threads L     thread counts to run, space separated (default "1 2")
#   --sizes L       n x h pairs (default 60000x1024,60000x4096,10000x16384)
#   --rounds N      run every (program, size) pair N times, alternating C++ and PyTorch, and keep
#                   each program's best (default 1): the machine's noise only ever slows a run
#   --compare-only  run nothing: print the comparison of the CSV files already in
#                   BUILD_DIR/bench-results/ (for runs made one thread count at a time: a run
#                   replaces the files of its own thread counts only)
#   -- FLAGS        passed to both programs: --k N, --eta X, --warmup N, --reps N, --dgemm N,
#                   --dgemm-reps N, --idx FILE (`ssldyn_bench_two_layer --help`)
# Each size runs in its own process, one after another (never two at once: at n = 60000,
# h = 4096 one (2n) x h matrix is 3.9 GB), so each row's peak memory is that size's alone.
# The full default run takes about 15 minutes for one thread, 10 for two.
#
# Environment: OPENBLAS_NUM_THREADS and the programs' --threads are set per run (for PyTorch
# its intra-op threads, for both the BLAS); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset
# for both. PYTHON overrides the interpreter (default /usr/bin/python3, Debian's, which has
# python3-torch; the script installs that package with apt-get when torch is missing).
set -euo pipefail

build_dir=build
quick=()
threads_list="1 2"
sizes=""
compare_only=0
rounds=1
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=(--quick); shift ;;
        --threads) threads_list=$2; shift 2 ;;
        --sizes) sizes=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --compare-only) compare_only=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "two_layer.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
        *) build_dir=$1; shift ;;
    esac
done
[[ $build_dir = /* ]] || build_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$build_dir
# ROOT and BUILD (= build_dir).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$build_dir"
python=${PYTHON:-/usr/bin/python3}
if [[ -z $sizes ]]; then
    if [[ ${#quick[@]} -gt 0 ]]; then
        sizes=5000x256,5000x1024,2000x2048
    else
        sizes=60000x1024,60000x4096,10000x16384
    fi
fi

results=$BUILD/bench-results
csvs=()
if [[ $compare_only = 1 ]]; then
    shopt -s nullglob
    csvs=("$results"/two_layer_*.csv)
    [[ ${#csvs[@]} -gt 0 ]] || { echo "two_layer.sh: no CSV files in $results" >&2; exit 2; }
else
    if ! "$python" -c 'import torch' 2>/dev/null; then
        echo "# torch is missing for $python: apt-get install -y python3-torch"
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch
    fi
    if [[ ! -f $BUILD/CMakeCache.txt ]]; then
        cmake -S "$ROOT" -B "$BUILD" -DSSLDYN_BUILD_TESTS=OFF -DSSLDYN_BUILD_BENCH=ON
    fi
    cmake --build "$BUILD" --target ssldyn_bench_two_layer -j2
    mkdir -p "$results"
fi
bench=$BUILD/bench/ssldyn_bench_two_layer

for var in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    [[ -z ${!var+x} ]] || echo "# $var=${!var} is set in this environment: unset for both"
done

# Other work on the machine skews the figures; the load average is printed with each run.
run() {
    echo
    echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$1" "${@:2}" --threads "$1"
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

[[ $compare_only = 1 ]] && threads_list=""
for t in $threads_list; do
    rm -f "$results"/two_layer_*_t"$t"_*.csv
    for round in $(seq "$rounds"); do
        for size in ${sizes//,/ }; do
            csv=$results/two_layer_cpp_t${t}_${size}_r$round.csv
            run "$t" "$bench" "${quick[@]}" --sizes "$size" "${extra[@]}" --csv "$csv"
            csvs+=("$csv")
            csv=$results/two_layer_torch_t${t}_${size}_r$round.csv
            run "$t" "$python" "$ROOT/bench/torch_two_layer.py" "${quick[@]}" --sizes "$size" \
                "${extra[@]}" --csv "$csv"
            csvs+=("$csv")
        done
    done
done

echo
"$python" - "${csvs[@]}" <<'EOF'
import csv
import sys

steps, dgemm = {}, {}
for path in sys.argv[1:]:
    with open(path) as f:
        for r in csv.DictReader(f):
            key = (r["impl"], int(r["threads"]))
            if r["path"] == "dgemm":
                dgemm.setdefault(key, []).append(float(r["gflops"]))
            elif r["path"] == "step":  # float64, the best over the rounds
                key += (int(r["n"]), int(r["h"]))
                if key not in steps or float(r["best_s"]) < float(steps[key]["best_s"]):
                    steps[key] = r

# The reference is each program's best dgemm rate over its runs (start and end of every
# process): contention from other work only ever lowers a rate.
for key, rates in sorted(dgemm.items()):
    spread = 100.0 * (max(rates) - min(rates)) / max(rates)
    print(f"# dgemm {key[0]} {key[1]} thr: best {max(rates):.1f} GFLOP/s over {len(rates)} "
          f"measurements, spread {spread:.0f}%"
          + (" (WARNING: > 10%, the machine was busy)" if spread > 10 else ""))
ref = {key: max(rates) for key, rates in dgemm.items()}


def pct(impl, t, r):
    return 100.0 * float(r["gflops"]) / ref[impl, t] if (impl, t) in ref else float("nan")


print("# times: best of the timed steps over the rounds; GFLOP/s from the model flops; %dg"
      " against the same program's best dgemm; speed-up: PyTorch time / C++ time, and the issue's"
      " measure, C++ %dg / PyTorch %dg (target >= 1.5)")
print(f"{'thr':>3} {'n':>6} {'h':>6} {'k':>3} {'GFLOP':>7} | {'C++ s':>8} {'GF/s':>6} {'%dg':>5}"
      f" {'MiB':>6} | {'torch s':>8} {'GF/s':>6} {'%dg':>5} {'MiB':>6} | {'time':>5}"
      f" {'%dg':>5} {'>=1.5':>5}")
met = total = 0
for (impl, t, n, h) in sorted((k for k in steps if k[0] == "cpp"), key=lambda k: k[1]):
    c, p = steps[impl, t, n, h], steps.get(("torch", t, n, h))
    line = (f"{t:>3} {n:>6} {h:>6} {int(c['k']):>3} {float(c['gflop']):>7.0f} |"
            f" {float(c['best_s']):>8.3f} {float(c['gflops']):>6.1f} {pct('cpp', t, c):>5.1f}"
            f" {float(c['peak_rss_mib']):>6.0f} |")
    if p is None:
        print(line + f" {'-':>8} {'-':>6} {'-':>5} {'-':>6} | {'-':>5} {'-':>5} {'-':>5}")
        continue
    by_time = float(p["best_s"]) / float(c["best_s"])
    by_rate = pct("cpp", t, c) / pct("torch", t, p)
    total += 1
    met += by_rate >= 1.5
    print(line + f" {float(p['best_s']):>8.3f} {float(p['gflops']):>6.1f}"
          f" {pct('torch', t, p):>5.1f} {float(p['peak_rss_mib']):>6.0f} |"
          f" {by_time:>5.2f} {by_rate:>5.2f} {'yes' if by_rate >= 1.5 else 'NO':>5}")
print("# MiB: peak resident memory of the process (getrusage), one process per size")
print(f"# target (C++ %dgemm >= 1.5x PyTorch's) met in {met}/{total} cases")
EOF
