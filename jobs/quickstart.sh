#!/usr/bin/env bash
# The main job: dimension collapse against its cure on Fashion-MNIST (Debian's package).
# One naive run on the sphere and one orthogonality-constrained run from the same data and
# the same initial Gaussian draw, each next to its exact gradient flow, into results/.
#
#   SSLDYN=path/to/ssldyn jobs/quickstart.sh [extra settings, e.g. --k 8 --steps 4000]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SSLDYN="${SSLDYN:-ssldyn}"
OUT="${OUT:-$ROOT/results}"
mkdir -p "$OUT"

common=(--config "$ROOT/jobs/configs/quickstart.ini" --overwrite --quiet "$@")
echo "== naive dynamics (on the sphere): expect collapse to one dimension"
"$SSLDYN" run "${common[@]}" --dynamics sphere --store "$OUT/quickstart-naive.h5"
echo
echo "== orthogonal dynamics (Stiefel manifold, retraction chosen by shape): expect no collapse"
"$SSLDYN" run "${common[@]}" --dynamics orthogonal --store "$OUT/quickstart-orthogonal.h5"
echo
echo "Stores in $OUT; read them with h5dump or h5py (see README, 'The HDF5 store')."
