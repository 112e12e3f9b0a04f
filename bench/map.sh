#!/usr/bin/env bash
# What the map of the day costs the whole job: `cityflow report generate --comptages FILE
# --all` into the file store, start to exit, with this build (which draws and writes each
# day's map) and with a baseline build that does not (BENCH_BASELINE: a `cityflow` built from
# a commit before the map, e.g. 27d9e1a), alternating run after run (page cache warm, both
# cores), one warm-up of each, BENCH_RUNS (default 5) runs; medians of wall time and peak
# RSS (/usr/bin/time -v) and the size of one day's map. Inputs: the 3,348 real arcs over
# BENCH_SIZES days (default "14 365"), generated once as bench/comptages.sh does.
#
#   git worktree add /tmp/baseline 27d9e1a && (cd /tmp/baseline && cargo build --release -p cityflow-cli)
#   BENCH_BASELINE=/tmp/baseline/target/release/cityflow bench/map.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

BASELINE="${BENCH_BASELINE:?BENCH_BASELINE: a cityflow binary built before the map}"
SIZES="${BENCH_SIZES:-14 365}"
RUNS="${BENCH_RUNS:-5}"
NETWORK="../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json"
WORK=".services/bench"
mkdir -p "$WORK"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"

# once BINARY FILE → "seconds peak_kb" of one whole job into a fresh output directory
once() {
  local out report
  out="$(mktemp -d)"
  report="$(mktemp)"
  (cd "$out" && env -i PATH="$PATH" /usr/bin/time -v -o "$report" \
    "$1" report generate --comptages "$OLDPWD/$2" --all >/dev/null 2>&1)
  echo "$(wall_seconds "$report") $(peak_rss_kb "$report") $(du -sb "$out/output/maps" 2>/dev/null | cut -f1)"
  rm -rf "$out" "$report"
}

printf '| days | size (MB) | baseline (s) | with the map (s) | with ÷ baseline | baseline peak RSS (MB) | with peak RSS (MB) | maps written (MB) |\n|---|---|---|---|---|---|---|---|\n'
for days in $SIZES; do
  file="$WORK/comptages-${days}d.csv"
  if [[ ! -s "$file" ]]; then
    echo "generating $file (3,348 arcs × $days days)…" >&2
    "$CITYFLOW" simulate comptages --network "$NETWORK" --from 2025-01-01 \
      --to "$(date -u -d "2025-01-01 + $((days - 1)) days" +%F)" --seed 1 --out "$file" >&2
  fi
  once "$BASELINE" "$file" >/dev/null
  once "$CITYFLOW" "$file" >/dev/null
  base_s=() base_kb=() with_s=() with_kb=() maps=0
  for _ in $(seq "$RUNS"); do
    read -r s kb _ <<<"$(once "$BASELINE" "$file")"; base_s+=("$s"); base_kb+=("$kb")
    read -r s kb maps <<<"$(once "$CITYFLOW" "$file")"; with_s+=("$s"); with_kb+=("$kb")
    echo "  $days days: baseline ${base_s[-1]} s, with the map ${with_s[-1]} s" >&2
  done
  b="$(median "${base_s[@]}")" w="$(median "${with_s[@]}")"
  printf '| %s | %.0f | %.2f | %.2f | %.2f× | %.0f | %.0f | %.1f |\n' "$days" \
    "$(echo "$(stat -c %s "$file") / 1000000" | bc -l)" "$b" "$w" "$(echo "$w / $b" | bc -l)" \
    "$(echo "$(median "${base_kb[@]}") / 1024" | bc -l)" "$(echo "$(median "${with_kb[@]}") / 1024" | bc -l)" \
    "$(echo "${maps:-0} / 1000000" | bc -l)"
done
