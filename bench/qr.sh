#!/usr/bin/env bash
# Tall-skinny orthonormalisation (linalg/orthonormalise.hpp) on 1 and 2 MPI ranks, one BLAS
# thread each, then one table: seconds, % of the dgemm rate, the 1 -> 2 rank speed-up, peak
# memory per rank, and the targets (CholeskyQR2 >= 50% of dgemm, Householder >= 30%, speed-up
# >= 1.7). bench/README-qr.md explains the methods, flop counts and communication volumes.
#
# Usage: bench/qr.sh [--quick] [--ranks "1 2"] [BUILD_DIR] [-- FLAGS...]
#   BUILD_DIR    CMake build folder, absolute or relative to the source root (default
#                build-bench); configured (tests off) if it has no cache, then built
#   --quick      small sizes, seconds in all (passed to ssldyn_bench_qr)
#   --ranks L    rank counts to run, space separated (default "1 2")
#   --compare-only  run nothing: print the table from the CSV files of an earlier run
#   -- FLAGS     passed to ssldyn_bench_qr (--sizes, --methods, --reps, --nb, --grid, ...;
#                `ssldyn_bench_qr --help` lists them)
# Default sizes 65536 x 1024 and 131072 x 784 (512 and 784 MiB): about 15 minutes, 3.5 GiB.
# Environment: MPIEXEC (default mpirun); as root, OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) are set.
set -euo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=build-bench
quick=()
ranks_list="1 2"
compare_only=0
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=(--quick); shift ;;
        --ranks) ranks_list=$2; shift 2 ;;
        --compare-only) compare_only=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "qr.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
        *) build_dir=$1; shift ;;
    esac
done
[[ $build_dir = /* ]] || build_dir=$src_dir/$build_dir
results=$build_dir/bench-results
mkdir -p "$results"

if [[ $compare_only = 0 ]]; then
    [[ -f $build_dir/CMakeCache.txt ]] ||
        cmake -S "$src_dir" -B "$build_dir" -DSSLDYN_BUILD_TESTS=OFF -DSSLDYN_BUILD_BENCH=ON
    cmake --build "$build_dir" --target ssldyn_bench_qr -j2
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    for r in $ranks_list; do
        echo
        echo "# $r rank(s); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
        OPENBLAS_NUM_THREADS=1 "${MPIEXEC:-mpirun}" -n "$r" "$build_dir/bench/ssldyn_bench_qr" \
            "${quick[@]}" "${extra[@]}" --csv "$results/qr_ranks$r.csv"
        echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    done
fi

echo
/usr/bin/python3 - "$results"/qr_ranks*.csv <<'EOF'
import csv
import sys

rows, dgemm = {}, {}
for path in sys.argv[1:]:
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["impl"] == "dgemm":
                dgemm.setdefault(int(r["ranks"]), []).append(float(r["gflops"]))
                continue
            rows[(r["impl"], int(r["ranks"]), int(r["m"]), int(r["n"]), r["method"], r["input"])] = r
# The reference is the better of the run's start and end dgemm: contention only lowers a rate.
for key, r in rows.items():
    ref = max(dgemm.get(key[1], [0.0]))
    r["pct_dgemm"] = str(100.0 * float(r["gflops"]) / ref) if ref and float(r["gflops"]) else ""
for p, rates in sorted(dgemm.items()):
    spread = 100.0 * (max(rates) - min(rates)) / max(rates)
    print(f"# dgemm reference, {p} rank(s): {max(rates):.1f} GFLOP/s (start and end {spread:.0f}% apart)"
          + (": the machine was busy" if spread > 10 else ""))
ranks = sorted({k[1] for k in rows})
cases = sorted({k[0:1] + k[2:] for k in rows}, key=lambda c: (c[1], c[2], c[0] != "pblas", c[3]))


def get(impl, p, m, n, method, kind, field):
    r = rows.get((impl, p, m, n, method, kind))
    return float(r[field]) if r and r[field] else None


def fmt(v, spec, width):
    return (format(v, spec) if v is not None else "-").rjust(width)


print("# best of the timed calls; %dg: rate by the method's own flop count (README-qr.md) as % of")
print("# the better dgemm rate of the same run; peak/x: largest rank's peak memory over")
print("# its part of the matrix (input and working copy are kept: 2 is the floor)")
head = f"{'impl':<6} {'m':>7} {'n':>5} {'method':<14} {'input':<6}"
for p in ranks:
    head += f" {f's@{p}':>8} {f'%dg@{p}':>7} {f'peak/x@{p}':>9}"
head += f" {'speed-up':>8}  targets"
print(head)
met = []
for impl, m, n, method, kind in cases:
    line = f"{impl:<6} {m:>7} {n:>5} {method:<14} {kind:<6}"
    for p in ranks:
        peak, local = get(impl, p, m, n, method, kind, "peak_mib"), get(impl, p, m, n, method, kind, "local_mib")
        line += (f" {fmt(get(impl, p, m, n, method, kind, 'best_s'), '.3f', 8)}"
                 f" {fmt(get(impl, p, m, n, method, kind, 'pct_dgemm'), '.1f', 7)}"
                 f" {fmt(peak / local if peak and local else None, '.2f', 9)}")
    t1, t2 = get(impl, 1, m, n, method, kind, "best_s"), get(impl, 2, m, n, method, kind, "best_s")
    speedup = t1 / t2 if t1 and t2 else None
    line += f" {fmt(speedup, '.2f', 8)}"
    notes = []
    if impl == "pblas" and kind == "random" and method in ("cholesky_qr2", "householder"):
        floor = 50.0 if method == "cholesky_qr2" else 30.0
        for p in ranks:
            pct = get(impl, p, m, n, method, kind, "pct_dgemm")
            if pct is not None:
                ok = pct >= floor
                met.append(ok)
                notes.append(f"{p}r >={floor:.0f}%: {'yes' if ok else 'NO'}")
        if speedup is not None:
            met.append(speedup >= 1.7)
            notes.append(f">=1.7x: {'yes' if speedup >= 1.7 else 'NO'}")
    print(line + "  " + ", ".join(notes))
print(f"# targets met: {sum(met)}/{len(met)}")
EOF
