# Sourced by the sweep-level benchmarks (sweep_bench.sh, spread.sh) with their arguments: the
# source root, the build folder (first argument, default build) and its ssldyn, a scratch folder
# removed on exit, the MPI launcher (root needs --allow-run-as-root), one BLAS thread per rank,
# and a clock.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SSLDYN="$BUILD/src/ssldyn"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
launcher=(mpirun --bind-to core)
[ "$(id -u)" -eq 0 ] && launcher+=(--allow-run-as-root)
export OPENBLAS_NUM_THREADS=1

now() { date +%s.%N; }
