#!/usr/bin/env bash
# Submits jobs/sweep.slurm sized by ssldyn: --cpus-per-task = THREADS (the BLAS threads of a
# rank) and --mem-per-cpu from the memory per rank of the sweep's largest run
# (`ssldyn sweep CONFIG --print memory-per-rank`, the estimate `--dry-run` shows), plus the
# process's own baseline and a margin. Prints the job id; a bad config (exit code 2) submits
# nothing.
#
#   CONFIG=jobs/configs/width.ini THREADS=2 jobs/submit.sh --ntasks=8 --time=04:00:00
#
# Settings: those of jobs/sweep.slurm (CONFIG, STORE, SSLDYN, SSLDYN_SETUP, THREADS,
# GROUP_SIZE, …; SSLDYN_SETUP is run here too, to find ssldyn), and
#   BASELINE_MB    the process's memory besides its runs' (MPI, BLAS, HDF5; default 300)
#   MARGIN         percent added to the estimate (default 25)
#   DISTRIBUTE_ABOVE  as --distribute-above in SWEEP_ARGS, for the estimate (default ssldyn's)
# sbatch options given to this script come last and win (a --mem-per-cpu of your own, say).
# Relative paths are taken from the current folder, as sbatch does.
set -euo pipefail

JOBS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The site's set-up, its output to stderr: stdout is the job id alone.
if [ -n "${SSLDYN_SETUP:-}" ]; then
  set +u
  if [ -f "$SSLDYN_SETUP" ]; then
    # shellcheck disable=SC1090  # the site's file
    source "$SSLDYN_SETUP" >&2
  else
    eval "$SSLDYN_SETUP" >&2
  fi
  set -u
fi
SSLDYN="${SSLDYN:-ssldyn}"
CONFIG="${CONFIG:-jobs/configs/quickstart.ini}"
THREADS="${THREADS:-1}"
if ! [ "$THREADS" -ge 1 ] 2>/dev/null; then
  echo "submit.sh: THREADS must be a positive number, not '$THREADS'" >&2
  exit 2
fi
estimate=(sweep "$CONFIG" --print memory-per-rank)
[ -n "${GROUP_SIZE:-}" ] && estimate+=(--group-size "$GROUP_SIZE")
[ -n "${DISTRIBUTE_ABOVE:-}" ] && estimate+=(--distribute-above "$DISTRIBUTE_ABOVE")
name="$("$SSLDYN" sweep "$CONFIG" --print name)" || exit 2
bytes="$("$SSLDYN" "${estimate[@]}")" || exit 2
if [ "${#bytes}" -gt 15 ]; then
  echo "submit.sh: sweep $name needs $bytes bytes per rank: far more than a node has" >&2
  exit 2
fi
# Per CPU of a rank, in MiB, rounded up: (runs + baseline) × (1 + margin), over the threads.
mebibytes=$(((bytes + 1048575) / 1048576 + ${BASELINE_MB:-300}))
per_cpu=$(((mebibytes * (100 + ${MARGIN:-25}) / 100 + THREADS - 1) / THREADS))
echo "submit.sh: sweep $name: about $((bytes / 1000000)) MB per rank for its largest run;" \
  "--cpus-per-task=$THREADS --mem-per-cpu=${per_cpu}M" >&2
export THREADS CONFIG
job="$(sbatch --parsable --cpus-per-task="$THREADS" --mem-per-cpu="${per_cpu}M" "$@" \
  "$JOBS/sweep.slurm")"
echo "${job%%;*}"
