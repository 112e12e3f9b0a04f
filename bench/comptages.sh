#!/usr/bin/env bash
# Raw open-data ingestion, whole job, against DuckDB (and polars when it installed), one table.
#
# Simulates 3,348 real Paris arcs over 14, 90 and 365 days (plain CSV) and 14 days gzipped,
# then, for each file, alternating the tools run after run (page cache warm, both cores):
#   cityflow  `report generate --comptages FILE --all` into the file store, start to exit:
#             reading, every figure, every report written (wall time and peak RSS from
#             /usr/bin/time -v);
#   duckdb    scripts/reference_aggregate.py --engine duckdb: the per-arc, per-day count, sum,
#             mean and max with our definitions (exact duplicates once, Invalide excluded,
#             impossible values dropped), timed around the query only (--time);
#   duckdb-plain  the plain GROUP BY: Invalide excluded, duplicates and impossible values
#             kept (not our figures: the fastest DuckDB goes);
#   polars    the same definitions as duckdb, when polars is installed.
# One warm-up of each, then BENCH_RUNS (default 5) runs; medians are printed.
#
#   bench/comptages.sh                         # the four rows (about 25 min here)
#   BENCH_SIZES="14 14gz" BENCH_RUNS=3 bench/comptages.sh   # a quick one
#   BENCH_TOOLS="cityflow duckdb-plain" bench/comptages.sh  # fewer tools
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

SIZES="${BENCH_SIZES:-14 90 365 14gz}"
RUNS="${BENCH_RUNS:-5}"
TOOLS="${BENCH_TOOLS:-cityflow duckdb duckdb-plain polars}"
# A run of another tool that takes longer than this (or runs out of memory) is reported as such.
LIMIT_S="${BENCH_LIMIT_S:-900}"
NETWORK="../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json"
WORK=".services/bench"
mkdir -p "$WORK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[[ -s "$NETWORK" ]] || { echo "needs $NETWORK (../shared beside the repository)" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"
SERVICES_ONLY=reference scripts/services start >/dev/null
PY="$(sed -n 's/^CITYFLOW_REFERENCE_PYTHON=//p' .services/env)"
if [[ " $TOOLS " == *" polars "* ]] && ! "$PY" -c 'import polars' 2>/dev/null; then
  echo "polars is not installed: left out" >&2
  TOOLS="${TOOLS/polars/}"
fi

# input SIZE → the path of its file, generated once (days from 2025-01-01, seed 1)
input() {
  local size="$1" days ext=csv file
  days="${size%gz}"
  [[ "$size" == *gz ]] && ext=csv.gz
  file="$WORK/comptages-${days}d.$ext"
  if [[ ! -s "$file" ]]; then
    echo "generating $file (3,348 arcs × $days days)…" >&2
    "$CITYFLOW" simulate comptages --network "$NETWORK" --from 2025-01-01 \
      --to "$(date -u -d "2025-01-01 + $((days - 1)) days" +%F)" --seed 1 --out "$file" >&2
  fi
  echo "$file"
}

# once TOOL FILE → "seconds peak_kb" of one run, or "failed" (out of memory, over the limit)
once() {
  local tool="$1" file="$2" timing log seconds rss
  timing="$(mktemp)"
  log="$WORK/$tool.log"
  case "$tool" in
    cityflow)
      rm -rf "$WORK/out"
      if ! /usr/bin/time -v -o "$timing" env -i PATH="$PATH" HOME="$HOME" OUTPUT_DIR="$WORK/out" \
          "$CITYFLOW" report generate --comptages "$file" --all >"$log" 2>&1; then
        rm -f "$timing"; echo failed; return
      fi
      seconds="$(wall_seconds "$timing")"
      ;;
    *)
      if ! /usr/bin/time -v -o "$timing" timeout "$LIMIT_S" "$PY" scripts/reference_aggregate.py \
          "$file" "$WORK/$tool.out.csv" --engine "$tool" --time >"$log" 2>&1; then
        rm -f "$timing"; echo failed; return
      fi
      seconds="$(sed -n 's/^query_seconds=//p' "$log")"
      ;;
  esac
  rss="$(peak_rss_kb "$timing")"
  rm -f "$timing"
  echo "$seconds $rss"
}

declare -A WALL RSS
for size in $SIZES; do
  file="$(input "$size")"
  bytes="$(stat -c %s "$file")"
  cat "$file" >/dev/null # page cache warm
  echo "$file: $((bytes / 1000000)) MB; a warm-up of each, then $RUNS runs, alternating" >&2
  declare -A walls=() peaks=() failed=()
  for tool in $TOOLS; do once "$tool" "$file" >/dev/null; done
  for _ in $(seq 1 "$RUNS"); do
    for tool in $TOOLS; do
      [[ -n "${failed[$tool]:-}" ]] && continue
      result="$(once "$tool" "$file")"
      if [[ "$result" == failed ]]; then
        failed[$tool]=1
        echo "  $tool failed on $file (see $WORK/$tool.log)" >&2
        continue
      fi
      read -r s k <<<"$result"
      echo "$size $tool $s $k" >>"$WORK/comptages-runs.txt" # every run, kept
      walls[$tool]+="$s "
      (( k > ${peaks[$tool]:-0} )) && peaks[$tool]=$k
    done
  done
  for tool in $TOOLS; do
    if [[ -n "${failed[$tool]:-}" ]]; then
      WALL[$size,$tool]=failed
    else
      # shellcheck disable=SC2086
      WALL[$size,$tool]="$(median ${walls[$tool]})"
      RSS[$size,$tool]="${peaks[$tool]}"
    fi
  done
  WALL[$size,bytes]="$bytes"
  unset walls peaks failed
done

mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
printf '\n%s, %s cores, median of %s runs; cityflow: whole job; others: query only\n\n' \
  "$(date -u +%F)" "$(nproc)" "$RUNS"
header="| input | size (MB) | cityflow (s) | cityflow (GB/s of text) | cityflow peak RSS (MB) |"
rule="|---|---|---|---|---|"
for tool in $TOOLS; do
  [[ "$tool" == cityflow ]] && continue
  header+=" $tool (s) | $tool peak RSS (MB) | $tool ÷ cityflow |"
  rule+="---|---|---|"
done
echo "$header"
echo "$rule"
for size in $SIZES; do
  ours="${WALL[$size,cityflow]:-}"
  bytes="${WALL[$size,bytes]}"
  label="${size%gz} days"
  [[ "$size" == *gz ]] && label+=" .gz"
  row="| $label | $((bytes / 1000000)) |"
  if [[ -z "$ours" || "$ours" == failed ]]; then
    row+=" ${ours:-—} | — | — |"
  else
    # Throughput of the text parsed: for gzip, the size of the same file decompressed.
    text_bytes="$bytes"
    [[ "$size" == *gz ]] && text_bytes="$(stat -c %s "$(input "${size%gz}")")"
    row+=" $(printf %.2f "$ours") | $(awk -v b="$text_bytes" -v s="$ours" 'BEGIN {printf "%.2f", b / 1e9 / s}') | $(mb "${RSS[$size,cityflow]}") |"
  fi
  for tool in $TOOLS; do
    [[ "$tool" == cityflow ]] && continue
    theirs="${WALL[$size,$tool]:-}"
    if [[ "$theirs" == failed ]]; then
      row+=" failed (out of memory or over ${LIMIT_S} s) | — | — |"
    elif [[ -n "$ours" && "$ours" != failed ]]; then
      row+=" $(printf %.2f "$theirs") | $(mb "${RSS[$size,$tool]}") | $(awk -v a="$theirs" -v b="$ours" 'BEGIN {printf "%.2f×", a / b}') |"
    else
      row+=" $(printf %.2f "$theirs") | $(mb "${RSS[$size,$tool]}") | — |"
    fi
  done
  echo "$row"
done
if [[ -n "${WALL[14gz,cityflow]:-}" && -n "${WALL[14,cityflow]:-}" && "${WALL[14gz,cityflow]}" != failed ]]; then
  awk -v g="${WALL[14gz,cityflow]}" -v p="${WALL[14,cityflow]}" \
    'BEGIN {printf "\ncityflow on the 14-day file: gzip ÷ plain = %.2f×\n", g / p}'
fi
