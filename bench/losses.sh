#!/usr/bin/env bash
# Seconds per naive GD step of each loss of THEORY 6 through the data (d = 784 MNIST digits,
# n = 10⁴, k = 16, float64): ssldyn (bench_losses.cpp: the step of `ssldyn run --path data
# --dynamics naive`), plain numpy (numpy_losses.py) and PyTorch (torch_losses.py, autograd), at
# each thread count, then a table of the three and of the ratios against ssldyn (target: ssldyn
# at least 1.5x faster than PyTorch float64).
#
# Usage: bench/losses.sh [--threads "1 2"] [--rounds N] [BUILD_DIR] [-- FLAGS...]
#   BUILD_DIR    CMake build folder, absolute or relative to the source root (default build);
#                configured if it has no cache, then ssldyn_bench_losses and the MNIST digits
#                (target mnist-data) are built (no-ops when up to date)
#   --threads L  thread counts, space separated (default "1 2"): OPENBLAS_NUM_THREADS and each
#                program's --threads (torch.set_num_threads for PyTorch)
#   --rounds N   rounds (default 3); each round runs every (thread count, program) once, the
#                programs one after another, so that the machine's noise hits all of them alike;
#                the table gives the median over the rounds of each run's median step
#   -- FLAGS     passed to the three programs: --n N, --k N, --warmup N, --reps N (default 5),
#                --losses LIST, --idx FILE (default: the build's MNIST digits)
# Takes about 2 minutes a round (InfoNCE's steps are seconds each).
#
# PyTorch is Debian's python3-torch for /usr/bin/python3 (PYTHON overrides the interpreter); when
# it is missing the script says so and leaves the PyTorch columns empty. Get it with
#     apt-get install -y python3-torch
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for all three programs.
set -euo pipefail

build_dir=build
threads_list="1 2"
rounds=3
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --threads) threads_list=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "losses.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
        *) build_dir=$1; shift ;;
    esac
done
[[ $build_dir = /* ]] || build_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$build_dir
# ROOT and BUILD (= build_dir).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$build_dir"
python=${PYTHON:-/usr/bin/python3}

if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSSLDYN_BUILD_TESTS=OFF \
        -DSSLDYN_BUILD_BENCH=ON
fi
cmake --build "$BUILD" --target ssldyn_bench_losses mnist-data -j2
idx=()
[[ " ${extra[*]} " = *" --idx "* ]] || idx=(--idx "$BUILD/data/mnist/images-idx3-ubyte")

programs=(cpp numpy)
if "$python" -c 'import torch' 2>/dev/null; then
    programs+=(torch)
else
    echo "# PyTorch is missing for $python: no PyTorch columns. Get it with"
    echo "#     apt-get install -y python3-torch"
fi

# A folder of its own per invocation: two at once neither mix nor delete each other's CSVs.
mkdir -p "$BUILD/bench-results"
results=$(mktemp -d "$BUILD/bench-results/losses.XXXXXX")
echo "# CSVs in $results"
csvs=()
for round in $(seq "$rounds"); do
    for t in $threads_list; do
        for program in "${programs[@]}"; do
            case $program in
                cpp) command=("$BUILD/bench/ssldyn_bench_losses") ;;
                *) command=("$python" "$ROOT/bench/${program}_losses.py") ;;
            esac
            csv=$results/losses_${program}_t${t}_r$round.csv
            echo "# round $round, $t thread(s), $program; load average $(cut -d' ' -f1-3 /proc/loadavg)"
            env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$t" \
                "${command[@]}" --threads "$t" "${idx[@]}" "${extra[@]}" --csv "$csv"
            csvs+=("$csv")
        done
    done
done

echo
"$python" - "${csvs[@]}" <<'PY'
import csv
import statistics
import sys

runs = {}
for path in sys.argv[1:]:
    with open(path) as f:
        for r in csv.DictReader(f):
            impl = "ssldyn" if r["impl"] == "cpp" else r["impl"]
            runs.setdefault((r["loss"], int(r["threads"]), impl), []).append(float(r["median_s"]))
step = {key: statistics.median(times) for key, times in runs.items()}
rounds = max(len(times) for times in runs.values())
print(f"# seconds per step: median over {rounds} round(s) of each run's median step; "
      "ratio = other / ssldyn (> 1: ssldyn faster); target torch / ssldyn >= 1.5")
print(f"{'loss':<22} {'thr':>3} {'ssldyn':>9} {'numpy':>9} {'torch':>9} "
      f"{'numpy/ss':>9} {'torch/ss':>9} {'>=1.5':>6}")
for loss, t in sorted({(k[0], k[1]) for k in step}, key=lambda k: (k[1], k[0])):
    s, p, q = (step.get((loss, t, impl)) for impl in ("ssldyn", "numpy", "torch"))
    def cell(v):
        return f"{v:>9.4f}" if v is not None else f"{'-':>9}"
    def ratio(v):
        return f"{v / s:>9.2f}" if v is not None and s else f"{'-':>9}"
    met = "-" if q is None or not s else ("yes" if q / s >= 1.5 else "NO")
    print(f"{loss:<22} {t:>3} {cell(s)} {cell(p)} {cell(q)} {ratio(p)} {ratio(q)} {met:>6}")
PY
