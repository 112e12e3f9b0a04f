#!/usr/bin/env bash
# Throughput and peak memory of the per-arc, per-day aggregation (count, sum, mean, max of the
# flow; count and mean of the occupancy) over one simulated open-data file, side by side:
# `cityflow comptages aggregate` vs DuckDB (vs polars when it installed), same file, same
# definitions (scripts/reference_aggregate.py). Whole-process figures from /usr/bin/time -v.
#
#   bench/comptages.sh              # 3,348 real arcs × 90 days (needs ../shared)
#   BENCH_DAYS=10 bench/comptages.sh
#   BENCH_RUNS=3 (default) runs of each; the median wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

DAYS="${BENCH_DAYS:-90}"
RUNS="${BENCH_RUNS:-3}"
NETWORK="${BENCH_NETWORK:-../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json}"
WORK=".services/bench"
FILE="$WORK/comptages-${DAYS}d.csv"
mkdir -p "$WORK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW=target/release/cityflow
SERVICES_ONLY=reference scripts/services start >/dev/null
PY="$(sed -n 's/^CITYFLOW_REFERENCE_PYTHON=//p' .services/env)"

if [[ ! -s "$FILE" ]]; then
  to="$(date -u -d "2025-01-01 + $((DAYS - 1)) days" +%F)"
  echo "generating $FILE (3,348 arcs × $DAYS days)…" >&2
  "$CITYFLOW" simulate comptages --network "$NETWORK" --from 2025-01-01 --to "$to" --seed 1 --out "$FILE" >&2
fi
SIZE=$(stat -c %s "$FILE")
echo "input: $FILE, $((SIZE / 1000000)) MB, $(nproc) cores" >&2

# run NAME CMD... → "NAME wall_s peak_rss_kb" (median wall of RUNS runs, max RSS)
run() {
  local name="$1"; shift
  local walls=() rss=0 out
  for _ in $(seq 1 "$RUNS"); do
    out="$(mktemp)"
    /usr/bin/time -v -o "$out" "$@" >/dev/null 2>>"$WORK/$name.stderr"
    local wall k
    wall=$(wall_seconds "$out")
    k=$(peak_rss_kb "$out")
    walls+=("$wall"); (( k > rss )) && rss=$k
    rm -f "$out"
  done
  echo "$name $(median "${walls[@]}") $rss"
}

results=()
results+=("$(run cityflow "$CITYFLOW" comptages aggregate --comptages "$FILE" --out "$WORK/cityflow.out.csv")")
results+=("$(run duckdb "$PY" scripts/reference_aggregate.py "$FILE" "$WORK/duckdb.out.csv" --engine duckdb)")
if "$PY" -c 'import polars' 2>/dev/null; then
  results+=("$(run polars "$PY" scripts/reference_aggregate.py "$FILE" "$WORK/polars.out.csv" --engine polars)")
fi

# Same answer? Row counts of the outputs (the test suite compares field by field).
echo "output rows: cityflow $(($(wc -l <"$WORK/cityflow.out.csv") - 1)), duckdb $(($(wc -l <"$WORK/duckdb.out.csv") - 1))" >&2

printf '\n| tool | wall (s, median of %s) | throughput (MB/s) | peak RSS (MB) |\n|---|---|---|---|\n' "$RUNS"
base=""
for r in "${results[@]}"; do
  read -r name wall rss <<<"$r"
  mbs=$(awk -v s="$SIZE" -v w="$wall" 'BEGIN {printf "%.0f", s / 1e6 / w}')
  printf '| %s | %.2f | %s | %.0f |\n' "$name" "$wall" "$mbs" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  [[ "$name" == duckdb ]] && base="$wall"
  [[ "$name" == cityflow ]] && ours="$wall"
done
awk -v a="$base" -v b="$ours" 'BEGIN {printf "\ncityflow throughput ÷ DuckDB throughput: %.2f×\n", a / b}'
