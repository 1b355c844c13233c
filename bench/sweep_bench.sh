#!/usr/bin/env bash
# Sweep benchmark (issue: sweeps over MPI):
#  1. 200 small runs (configs/sweep200.ini) on 1 and on 2 ranks: speedup, and the share of
#     rank time spent in HDF5 calls (store creation and the runs' writes, as ssldyn reports it);
#  2. `ssldyn query` and `ssldyn ls` over a 10^4-run index (configs/index10k.ini), best of 5.
#
#   bench/sweep_bench.sh [BUILD_DIR]      (default: build; needs bin ssldyn built)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
declare -A wall
for np in 1 2; do
  start=$(now)
  "${launcher[@]}" -n "$np" "$SSLDYN" sweep "$ROOT/bench/configs/sweep200.ini" \
    --store "$OUT/s$np.h5" -q > "$OUT/s$np.txt" || true
  wall[$np]=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
  echo "ranks $np: $(head -1 "$OUT/s$np.txt")"
done
printf 'wall time with mpirun: 1 rank %.2f s, 2 ranks %.2f s, speedup %.2fx (target >= 1.8x)\n' \
  "${wall[1]}" "${wall[2]}" "$(awk -v a="${wall[1]}" -v b="${wall[2]}" 'BEGIN { print a / b }')"

"${launcher[@]}" -n 2 "$SSLDYN" sweep "$ROOT/bench/configs/index10k.ini" --store "$OUT/big.h5" -q \
  | head -1
best() {
  local best=1e9
  for _ in 1 2 3 4 5; do
    local s=$(now); "$@" > /dev/null
    best=$(awk -v a="$(now)" -v b="$s" -v m="$best" 'BEGIN { t = a - b; print (t < m ? t : m) }')
  done
  printf '%.3f' "$best"
}
echo "query over 10^4 runs (final values, filter, csv): $(best "$SSLDYN" query "$OUT/big.h5" \
  --where 'k==2 and eta_rel<0.1 and final_effective_rank>1.5' --format csv) s"
echo "query over 10^4 runs (all rows, json):            $(best "$SSLDYN" query "$OUT/big.h5" \
  --format json) s"
echo "ls over 10^4 runs:                                $(best "$SSLDYN" ls "$OUT/big.h5") s"
