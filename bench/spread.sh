#!/usr/bin/env bash
# A run spread over its group (issue: distributed linear algebra): one orthogonal run, k = 32, at
# d = 3072 from 4096 samples (configs/spread.ini) and at d = 4096 from the exact C
# (configs/spread-exact.ini), each replicated on one rank (LAPACK, BLAS), spread over a group of
# one rank (ScaLAPACK on a 1 x 1 grid) and over a group of two: wall time, seconds per step,
# peak memory per rank (the largest), and the difference of the final weights to the replicated
# run.
#
#   bench/spread.sh [BUILD_DIR]      (default: build; needs ssldyn built)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
run() {  # config label ranks sweep-options...
  local config=$1 label=$2 np=$3; shift 3
  local start; start=$(now)
  "${launcher[@]}" -n "$np" /usr/bin/time -f "%M" -o "$OUT/$label.mem.%q{OMPI_COMM_WORLD_RANK}" \
    "$SSLDYN" sweep "$ROOT/bench/configs/$config.ini" --store "$OUT/$label.h5" -q "$@" > /dev/null
  local wall; wall=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
  local mem; mem=$(cat "$OUT/$label".mem.* | sort -n | tail -1)
  python3 - "$OUT/$label.h5" "$OUT/$config-replicated.h5" "$label" "$np" "$wall" "$mem" <<'PY'
import sys, h5py, numpy as np
path, reference, label, ranks, wall, mem = sys.argv[1:]
def final_weights(f):  # the run's slot of its weights block (the store's weights/ group)
    weights = f["sweeps/spread/weights"]
    return weights[f"W_{weights['block'][0]}"][weights["slot"][0]]
with h5py.File(path, "r") as f:
    step = f["sweeps/spread/seconds_per_step"][0]
    w = final_weights(f)
with h5py.File(reference, "r") as f:
    w0 = final_weights(f)
diff = np.linalg.norm(w - w0) / np.linalg.norm(w0)
print(f"{label:24s} ranks {ranks}  wall {float(wall):6.2f} s  step {step * 1e3:7.2f} ms  "
      f"peak {int(mem) / 1024:7.1f} MiB/rank  |W - W_replicated|/|W| {diff:.1e}")
PY
}
for config in spread spread-exact; do
  run "$config" "$config-replicated" 1 --distribute-above 100000000
  run "$config" "$config-1" 1 --distribute-above 0
  run "$config" "$config-2" 2 --distribute-above 0 --group-size 2
done
