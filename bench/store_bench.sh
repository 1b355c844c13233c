#!/usr/bin/env bash
# Store scaling (issue 17): the cheapest phase-diagram runs (spiked data from the exact C, d = 16,
# k = 2, 20 steps, a record every 5: 5 records) over the axes dynamics x loss x seed, the seed
# axis sized to give each run count, swept on 2 ranks into a new store. For each count: wall time
# of mpirun, the store's preparation time and the HDF5 share of rank time (as ssldyn sweep
# reports them), store size, peak RSS of each rank, cost per run (wall / runs), and the store's
# bytes against the bytes of the numbers it holds. Then, optionally, a 10-run sweep added to the
# largest store (time, peak RSS) and the Python reads of bench/store_read.py.
#
#   bench/store_bench.sh [options] [BUILD_DIR]      (default: build; its src/ssldyn)
#     --ssldyn FILE     the ssldyn to measure (or the environment's SSLDYN): a build of either
#                       store schema
#     --runs "N ..."    run counts (default "1000 10000 100000"); each a multiple of 4
#     --repeat R        sweeps per run count (default 1), each into a new store
#     --add-sweep       add a 10-run sweep to the store of the last run count
#     --python          time the Python reads (bench/store_read.py) on each store
#     --analysis SRC    the source root whose analysis/ssldyn/store.py the reads use (default: this one)
#     --label NAME      the name of the binary in the table and CSV (default: schema N)
#     --csv FILE        append the rows to FILE (created with a header)
#     --keep            keep the stores (default: each one is removed once measured)
#
# Stores go to a scratch folder made by mktemp (under TMPDIR). A run count whose store would not fit
# in the free space (its size extrapolated from the previous count, with 20 % to spare) is
# skipped with a note. The time ssldyn sweep --check takes (the expansion of the config every
# rank does first) is printed for each count. PYTHON overrides the interpreter of the reads
# (default /usr/bin/python3).
set -euo pipefail
wanted=${SSLDYN:-}
runs_list="1000 10000 100000"
repeat=1
add_sweep=0
python_reads=0
label=""
csv=""
keep=0
analysis=()
build=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --ssldyn) wanted=$2; shift 2 ;;
    --runs) runs_list=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --add-sweep) add_sweep=1; shift ;;
    --python) python_reads=1; shift ;;
    --analysis) analysis=(--analysis "$2"); shift 2 ;;
    --label) label=$2; shift 2 ;;
    --csv) csv=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "store_bench.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
  esac
done
source "$(dirname "${BASH_SOURCE[0]}")/common.sh" ${build:+"$build"}
[ -n "$wanted" ] && SSLDYN=$wanted
[ -x "$SSLDYN" ] || { echo "store_bench.sh: no ssldyn at $SSLDYN" >&2; exit 2; }
python=${PYTHON:-/usr/bin/python3}
for runs in $runs_list; do
  [[ $runs =~ ^[0-9]+$ && $((runs % 4)) = 0 && $runs -gt 0 ]] ||
    { echo "store_bench.sh: --runs: $runs is not a positive multiple of 4" >&2; exit 2; }
done
[ "$keep" = 1 ] && trap - EXIT && echo "# stores kept in $OUT"

echo "# ssldyn: $SSLDYN ($("$SSLDYN" --version 2>/dev/null | head -1 || true))"
echo "# machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), \
$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); scratch $OUT"

# The sweep config: 2 dynamics x the losses given x seeds 1 .. SEEDS.
write_config() {  # file name losses seeds
  {
    printf '[sweep]\nname = %s\n[fixed]\ndata = spiked\nd = 16\nk = 2\ncovariance = exact\n' "$2"
    printf 'steps = 20\nrecord_every = 5\n[axes]\ndynamics = sphere, orthogonal\n'
    printf 'loss = %s\nseed = ' "$3"
    seq -s ', ' 1 "$4"
  } > "$1"
}

# One sweep under mpirun, each rank under /usr/bin/time: sets wall, line (the summary line),
# rss0 and rss1 (peak RSS of ranks 0 and 1, KiB).
sweep() {  # config store
  local start; start=$(now)
  rm -f "$OUT"/rss.*
  "${launcher[@]}" -n 2 sh -c \
    'exec /usr/bin/time -f %M -o "$0.${OMPI_COMM_WORLD_RANK:-0}" "$@"' "$OUT/rss" \
    "$SSLDYN" sweep "$1" --store "$2" -q > "$OUT/out.txt"
  wall=$(awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
  line=$(grep -m1 '^sweep ' "$OUT/out.txt" || true)
  rss0=$(tail -1 "$OUT/rss.0")
  rss1=$(tail -1 "$OUT/rss.1")
}
# The figures ssldyn prints: "W s on 2 ranks; HDF5 X % of rank time (Y s preparing the store)"
# (W: from the store's preparation to the last run written; not the config's expansion before
# it nor the summary read after it, which the wall time of mpirun includes).
inside() { sed -n 's/.*, \([0-9.]*\) s on [0-9]* ranks.*/\1/p' <<< "$line"; }
share() { sed -n 's/.*HDF5 \([0-9.]*\) % of rank time.*/\1/p' <<< "$line"; }
prepare() { sed -n 's/.*(\([0-9.]*\) s preparing the store).*/\1/p' <<< "$line"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

if [ -n "$csv" ] && [ ! -s "$csv" ]; then
  echo "label,runs,repeat,wall_s,sweep_s,prepare_s,hdf5_share_pct,store_bytes,numbers_bytes,rss0_kib,rss1_kib,ms_per_run,load1" > "$csv"
fi
echo
echo "| binary | runs | wall (s) | sweep (s) | preparing the store (s) | HDF5 share of rank time | store size | store / numbers | peak RSS rank 0 / 1 (MiB) | cost per run (ms) | load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
bytes_per_run=0
last_store=""
for runs in $runs_list; do
  free=$(df -B1 --output=avail "$OUT" | tail -1)
  need=$(awk -v b="$bytes_per_run" -v n="$runs" 'BEGIN { printf "%.0f", 1.2 * b * n }')
  if [ "$need" -gt "$free" ]; then
    echo "# $runs runs skipped: the store would take about $((need / 1000000)) MB, $((free / 1000000)) MB are free"
    continue
  fi
  config="$OUT/store$runs.ini"
  write_config "$config" "store$runs" "noncontrastive, contrastive" $((runs / 4))
  # The config's expansion alone (every rank does it before the sweep), on one process.
  start=$(now)
  "$SSLDYN" sweep "$config" --check > /dev/null
  echo "# $runs runs: expanding the config (ssldyn sweep --check) $(awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.2f", a - b }') s"
  for ((r = 1; r <= repeat; r++)); do
    store="$OUT/store$runs.h5"
    rm -f "$store"
    load=$(cut -d' ' -f1 /proc/loadavg)
    sweep "$config" "$store"
    [ -n "$line" ] || { echo "store_bench.sh: $runs runs: no summary line:" >&2; cat "$OUT/out.txt" >&2; exit 1; }
    size=$(stat -c %s "$store")
    bytes_per_run=$((size / runs))
    numbers=$("$python" "$ROOT/bench/store_read.py" "$store" "store$runs" --numbers-only)
    schema=$("$python" "$ROOT/bench/store_read.py" "$store" "store$runs" --schema-only)
    name=${label:-schema $schema}
    per_run=$(awk -v w="$wall" -v n="$runs" 'BEGIN { printf "%.3f", 1000 * w / n }')
    ratio=$(awk -v s="$size" -v n="$numbers" 'BEGIN { printf "%.2f", s / n }')
    echo "| $name | $runs | $wall | $(inside) | $(prepare) | $(share) % | $((size / 1000000)) MB | $ratio | $(mib "$rss0") / $(mib "$rss1") | $per_run | $load |"
    [ -z "$csv" ] || echo "$name,$runs,$r,$wall,$(inside),$(prepare),$(share),$size,$numbers,$rss0,$rss1,$per_run,$load" >> "$csv"
  done
  if [ "$python_reads" = 1 ]; then
    "$python" "$ROOT/bench/store_read.py" "$store" "store$runs" "${analysis[@]}" | sed 's/^/#   /'
  fi
  last_store=$store
  # The last count's store stays for the added sweep.
  [ "$keep" = 1 ] || [ "$runs" = "${runs_list##* }" ] || rm -f "$store"
done

if [ "$add_sweep" = 1 ] && [ -n "$last_store" ]; then
  write_config "$OUT/add10.ini" add10 contrastive 5
  before=$(stat -c %s "$last_store")
  load=$(cut -d' ' -f1 /proc/loadavg)
  sweep "$OUT/add10.ini" "$last_store"
  echo
  echo "# a 10-run sweep added to the store of ${runs_list##* } runs ($((before / 1000000)) MB):" \
    "wall $wall s, peak RSS rank 0 / 1: $(mib "$rss0") / $(mib "$rss1") MiB, store now" \
    "$(($(stat -c %s "$last_store") / 1000000)) MB; load before $load; $line"
  [ -z "$csv" ] || echo "${label:-add},add10-to-${runs_list##* },1,$wall,$(inside),$(prepare),$(share),$(stat -c %s "$last_store"),0,$rss0,$rss1,0,$load" >> "$csv"
fi
[ "$keep" = 1 ] || rm -f "$OUT"/*.h5
