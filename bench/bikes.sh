#!/usr/bin/env bash
# The bike section from the raw CSV export, whole job, against DuckDB, one table.
#
# Simulates the bike counters of Paris (BENCH_SITES sites, default 100, two directions each,
# hourly) over 90 and 365 days in the dataset's CSV export, then, for each file, alternating
# the tools run after run (page cache warm, both cores):
#   cityflow      `report generate --bikes FILE --all --dry-run`, start to exit: reading,
#                 every day's total and failing counters, every report built and rendered
#                 (wall time and peak RSS from /usr/bin/time -v);
#   duckdb-plain  scripts/reference_bikes.py --engine duckdb-plain: the plain
#                 `GROUP BY counter, Paris day` SUM a DuckDB user would first write, timed
#                 around the query only (--time);
#   duckdb        the same script's full reference: our definitions (duplicates once, the
#                 three failing rules, totals without failing counters), query only.
# One warm-up of each, then BENCH_RUNS (default 5) runs; medians are printed.
#
#   bench/bikes.sh                              # both sizes (about 5 min here)
#   BENCH_SIZES=365 BENCH_RUNS=3 bench/bikes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

SIZES="${BENCH_SIZES:-90 365}"
RUNS="${BENCH_RUNS:-5}"
SITES="${BENCH_SITES:-100}"
TOOLS="${BENCH_TOOLS:-cityflow duckdb-plain duckdb}"
WORK=".services/bench"
mkdir -p "$WORK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"
SERVICES_ONLY=reference scripts/services start >/dev/null
PY="$(sed -n 's/^CITYFLOW_REFERENCE_PYTHON=//p' .services/env)"

# input DAYS → the path of its file, generated once (days from 2025-01-01, seed 1)
input() {
  local days="$1" file="$WORK/bikes-${1}d-${SITES}sites.csv"
  if [[ ! -s "$file" ]]; then
    echo "generating $file ($SITES sites × 2 directions × $days days)…" >&2
    "$CITYFLOW" simulate bikes --sites "$SITES" --from 2025-01-01 \
      --to "$(date -u -d "2025-01-01 + $((days - 1)) days" +%F)" --seed 1 --out "$file" >&2
  fi
  echo "$file"
}

# once TOOL FILE → "seconds peak_kb" of one run
once() {
  local tool="$1" file="$2" timing log seconds
  timing="$(mktemp)"
  log="$WORK/bikes-$tool.log"
  case "$tool" in
    cityflow)
      /usr/bin/time -v -o "$timing" env -i PATH="$PATH" HOME="$HOME" OUTPUT_DIR="$WORK/out" \
        "$CITYFLOW" report generate --bikes "$PWD/$file" --all --dry-run >"$log" 2>&1
      seconds="$(wall_seconds "$timing")"
      ;;
    *)
      /usr/bin/time -v -o "$timing" "$PY" scripts/reference_bikes.py "$file" \
        "$WORK/bikes-$tool.out.csv" --engine "$tool" --time >"$log" 2>&1
      seconds="$(sed -n 's/^query_seconds=//p' "$log")"
      ;;
  esac
  echo "$seconds $(peak_rss_kb "$timing")"
  rm -f "$timing"
}

declare -A WALL RSS ROWS BYTES
for size in $SIZES; do
  file="$(input "$size")"
  BYTES[$size]="$(stat -c %s "$file")"
  ROWS[$size]="$(($(wc -l <"$file") - 1))"
  cat "$file" >/dev/null # page cache warm
  echo "$file: $((BYTES[$size] / 1000000)) MB, ${ROWS[$size]} rows; a warm-up of each, then $RUNS runs" >&2
  declare -A walls=() peaks=()
  for tool in $TOOLS; do once "$tool" "$file" >/dev/null; done
  for _ in $(seq 1 "$RUNS"); do
    for tool in $TOOLS; do
      read -r s k <<<"$(once "$tool" "$file")"
      echo "$size $tool $s $k" >>"$WORK/bikes-runs.txt" # every run, kept
      walls[$tool]+="$s "
      (( k > ${peaks[$tool]:-0} )) && peaks[$tool]=$k
    done
  done
  for tool in $TOOLS; do
    # shellcheck disable=SC2086
    WALL[$size,$tool]="$(median ${walls[$tool]})"
    RSS[$size,$tool]="${peaks[$tool]}"
  done
  unset walls peaks
done

mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
printf '\n%s, %s cores, %s sites, median of %s runs; cityflow: whole job; DuckDB: query only\n\n' \
  "$(date -u +%F)" "$(nproc)" "$SITES" "$RUNS"
header="| days | size (MB) | rows | cityflow (s) | cityflow peak RSS (MB) |"
rule="|---|---|---|---|---|"
for tool in $TOOLS; do
  [[ "$tool" == cityflow ]] && continue
  header+=" $tool (s) | $tool ÷ cityflow |"
  rule+="---|---|"
done
echo "$header"
echo "$rule"
for size in $SIZES; do
  ours="${WALL[$size,cityflow]}"
  row="| $size | $((BYTES[$size] / 1000000)) | ${ROWS[$size]} | $(printf %.2f "$ours") | $(mb "${RSS[$size,cityflow]}") |"
  for tool in $TOOLS; do
    [[ "$tool" == cityflow ]] && continue
    theirs="${WALL[$size,$tool]}"
    row+=" $(printf %.2f "$theirs") | $(awk -v a="$theirs" -v b="$ours" 'BEGIN {printf "%.2f×", a / b}') |"
  done
  echo "$row"
done
