#!/usr/bin/env bash
# The main job: the quickstart sweep (jobs/configs/quickstart.ini, 48 runs on Fashion-MNIST
# from Debian's dataset-fashion-mnist) with mpirun on all local cores, into
# results/quickstart.h5, then its summary: naive runs collapse, orthogonal ones do not, and
# how far gradient descent stayed from the exact flow. Then the report (figures, CSV, one HTML
# page) in results/quickstart-report/. Run again, it resumes (and so finishes
# a killed run, or just prints the summary).
#
#   SSLDYN=path/to/ssldyn NP=ranks jobs/quickstart.sh [extra sweep options]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SSLDYN="${SSLDYN:-ssldyn}"
NP="${NP:-$(nproc)}"
OUT="${OUT:-$ROOT/results}"
STORE="$OUT/quickstart.h5"
mkdir -p "$OUT"

launcher=(mpirun -n "$NP")
[ "$(id -u)" -eq 0 ] && launcher+=(--allow-run-as-root)
# Ctrl-C reaches the ranks, which save and stop; mpirun kills them after this many seconds
# twice over (Open MPI's default, 1, can cut a save short).
export OMPI_MCA_odls_base_sigkill_timeout="${OMPI_MCA_odls_base_sigkill_timeout:-10}"
resume=()
[ -e "$STORE" ] && resume=(--resume --break-lock)  # a lock left by a killed run of this script
# One BLAS thread per rank: the ranks already fill the cores. Runs that failed (exit code 1)
# are in the store and marked in the report; bad input (2) leaves nothing to report on.
status=0
OPENBLAS_NUM_THREADS=1 "${launcher[@]}" "$SSLDYN" sweep "$ROOT/jobs/configs/quickstart.ini" \
  --store "$STORE" "${resume[@]}" "$@" || status=$?
[ "$status" -le 1 ] || exit "$status"

# The report: figures of simulation against theory, their numbers as CSV, one HTML page.
"$SSLDYN" report "$STORE" --out "$OUT/quickstart-report"
exit "$status"
