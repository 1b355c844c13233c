#!/usr/bin/env bash
# Memory per rank of the two-layer model with its hidden units sharded over the ranks
# (model/sharded_two_layer.hpp; issue: large W₁ distributed in the run group, memory per rank
# O(hd/g)): a wide layer, d = 784, n = 2000, k = 16, h = 2^14, 2^15, 2^16, on 1 and 2 ranks, one
# process per width; the largest rank's peak resident memory and the seconds per constrained
# (qr) step. About 10 minutes, and 7 GiB at h = 2^16 on one rank.
#
#   bench/sharded_width.sh [BUILD_DIR] [-- FLAGS...]   (default build; FLAGS go to
#   ssldyn_bench_sharded, e.g. -- --n 500; WIDTHS="16384 32768" and RANKS="1 2" override)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ $# -gt 0 ] && [ "$1" != "--" ] && shift
[ $# -gt 0 ] && [ "$1" == "--" ] && shift
bench="$BUILD/bench/ssldyn_bench_sharded"
for np in ${RANKS:-1 2}; do
  for h in ${WIDTHS:-16384 32768 65536}; do
    "${launcher[@]}" -n "$np" "$bench" --h "$h" "$@"
  done
done
