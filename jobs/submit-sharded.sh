#!/usr/bin/env bash
# Submits a sweep as a job array of shards (jobs/array.slurm) and the merge of the shards into
# one store (jobs/merge.slurm), which starts only once every shard succeeded
# (--dependency=afterok). Prints the two job ids on one line (ARRAY MERGE), and what they are
# on stderr.
#
#   SHARDS=8 CONFIG=jobs/configs/orthogonality.ini STORE=results/orth.h5 \
#     jobs/submit-sharded.sh [sbatch options for the shards, e.g. --ntasks=4 --time=2:00:00]
#
# Settings: those of jobs/sweep.slurm (CONFIG, STORE, SSLDYN, LAUNCH, THREADS, …) and
#   SHARDS     number of shards, the array's size (default 4)
#   THROTTLE   at most this many shards at a time (--array=0-N-1%THROTTLE; default: no limit)
#   MERGE_ARGS sbatch options for the merge job, split at spaces
# Relative paths are taken from the current folder, as sbatch does.
set -euo pipefail

JOBS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHARDS="${SHARDS:-4}"
if ! [ "$SHARDS" -ge 1 ] 2>/dev/null; then
  echo "submit-sharded.sh: SHARDS must be a positive number, not '$SHARDS'" >&2
  exit 2
fi
range="0-$((SHARDS - 1))${THROTTLE:+%$THROTTLE}"
export SHARDS SSLDYN_JOBS="$JOBS"

array_id="$(sbatch --parsable --array="$range" "$@" "$JOBS/array.slurm")"
array_id="${array_id%%;*}" # --parsable prints ID or ID;CLUSTER
# shellcheck disable=SC2086  # MERGE_ARGS is split at spaces on purpose
merge_id="$(sbatch --parsable --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
  ${MERGE_ARGS:-} "$JOBS/merge.slurm")"
merge_id="${merge_id%%;*}"
echo "submitted array job $array_id ($SHARDS shards, tasks $range) and merge job $merge_id" \
  "(starts once every shard succeeded)" >&2
echo "$array_id $merge_id"
