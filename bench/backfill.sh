#!/usr/bin/env bash
# Backfill load: one simulated year (365 days) of the open-data CSV exported with
# `cityflow report generate --all --jobs 8` to each backend on the local test servers
# (scripts/services: SecantusDB, LocalStack S3, DynamoDB Local), after `cityflow setup`.
#
# Prints, per target, the export rate that the command itself reports (`reports_per_second`
# of --json: building, rendering and exporting the 365 reports, both targets, after the read)
# and the whole-process wall time and peak RSS from /usr/bin/time -v. Median of BENCH_RUNS.
#
#   bench/backfill.sh                 # 365 days × 200 synthetic arcs, 3 runs per target
#   BENCH_ARCS=50 BENCH_RUNS=1 bench/backfill.sh
#   BENCH_JOBS=16 bench/backfill.sh
#
# Each run exports into a fresh database, bucket and table, so every run writes 365 new
# reports. The read-back (365 per backend, each equal to a fresh computation) is a test:
# cityflow-cli/tests/load.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

ARCS="${BENCH_ARCS:-200}"
RUNS="${BENCH_RUNS:-3}"
JOBS="${BENCH_JOBS:-8}"
WORK=".services/bench"
FILE="$WORK/year-${ARCS}arcs.csv.gz"
mkdir -p "$WORK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"

SERVICES_ONLY="mongodb s3 dynamodb" scripts/services start >&2
eval "$(scripts/services env)"

if [[ ! -s "$FILE" ]]; then
  echo "generating $FILE ($ARCS arcs × 365 days)…" >&2
  "$CITYFLOW" simulate comptages --arcs "$ARCS" --from 2025-01-01 --to 2025-12-31 --seed 365 --out "$FILE" >&2
fi
echo "input: $FILE, $(($(stat -c %s "$FILE") / 1000)) kB gzip, $ARCS arcs, 365 days, --jobs $JOBS, $(nproc) cores" >&2

PY="$(command -v python3)"

# env_for TARGET RUN → the environment lines of that target, fresh names per run
env_for() {
  local target="$1" run="$2" id
  id="bench-$(date +%s)-$run-$RANDOM"
  echo "OUTPUT_DIR=$WORK/out-$id"
  echo "AWS_ACCESS_KEY_ID=test"
  echo "AWS_SECRET_ACCESS_KEY=test"
  echo "AWS_ENDPOINT_URL_S3=$S3_TEST_ENDPOINT_URL"
  echo "AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_TEST_ENDPOINT_URL"
  echo "S3_REPORTS_BUCKET=$id"
  echo "DYNAMODB_REPORTS_TABLE=$id"
  echo "MONGODB_URL=$MONGODB_TEST_URL"
  echo "MONGODB_DATABASE=${id//-/_}"
  case "$target" in
    files) ;;
    mongodb) echo "DATABASE_TYPE=mongodb" ;;
    dynamodb) echo "DATABASE_TYPE=dynamodb" ;;
    s3) echo "USE_S3=true" ;;
    aws) echo "AWS_EXECUTION_ENV=AWS_Lambda_rust" ;;
  esac
}

# run TARGET → "TARGET reports_per_s wall_s peak_rss_kb" (medians of RUNS, max RSS)
run() {
  local target="$1" rates=() walls=() rss=0
  for i in $(seq 1 "$RUNS"); do
    local vars=() timing summary
    mapfile -t vars < <(env_for "$target" "$i")
    env -i PATH="$PATH" "${vars[@]}" "$CITYFLOW" setup >/dev/null
    timing="$(mktemp)"
    summary="$WORK/$target-$i.json"
    env -i PATH="$PATH" "${vars[@]}" /usr/bin/time -v -o "$timing" \
      "$CITYFLOW" report generate --all --jobs "$JOBS" --json --comptages "$FILE" >"$summary" 2>>"$WORK/$target.stderr" || {
      echo "$target run $i failed; see $summary and $WORK/$target.stderr" >&2
      exit 1
    }
    rates+=("$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); assert len(s["exports"]) == 365 and s["ok"], "not 365 exports"; print(s["reports_per_second"])' "$summary")")
    walls+=("$(wall_seconds "$timing")")
    local k
    k=$(peak_rss_kb "$timing")
    ((k > rss)) && rss=$k
    rm -f "$timing"
    rm -rf "$WORK/out-bench-"*
  done
  echo "$target $(median "${rates[@]}") $(median "${walls[@]}") $rss"
}

declare -A WHAT=(
  [files]="CSV files + JSON files"
  [mongodb]="CSV files + JSON MongoDB (SecantusDB)"
  [dynamodb]="CSV files + JSON DynamoDB (DynamoDB Local)"
  [s3]="CSV S3 (LocalStack) + JSON files"
  [aws]="AWS mode: CSV S3 + JSON DynamoDB"
)
printf '\n| targets | reports/s (median of %s) | whole process wall (s) | peak RSS (MB) |\n|---|---|---|---|\n' "$RUNS"
for target in files mongodb dynamodb s3 aws; do
  read -r _ rate wall rss <<<"$(run "$target")"
  printf '| %s | %.0f | %.2f | %.0f |\n' "${WHAT[$target]}" "$rate" "$wall" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
done
