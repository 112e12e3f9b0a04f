#!/usr/bin/env bash
# Ten years of history in each store: 3,653 simulated reports (2016-01-01..2025-12-31) exported
# by `cityflow report generate --all` into the files, MongoDB (SecantusDB) and DynamoDB Local
# stores of scripts/services, then `cityflow serve` (release build) over each store and wrk on
# three paths, alternating, in the same run:
#
#   GET /reports/2025-06-15                            one report
#   GET /stats?from=2025-01-01&to=2025-12-31           one year of summaries
#   GET /reports?limit=1000                            the first page of the list
#
# It prints p50 and p99 of each (median of BENCH_RUNS runs) and the ratios to the one report.
# Then the stores' own counters for one request of each path: DynamoDB's ConsumedCapacity
# (the store logs it at debug level for every Query and GetItem) and MongoDB's explain of the
# summaries query the store sends.
#
#   bench/history.sh                          # 3 runs of 10 s per path, 16 connections
#   BENCH_RUNS=1 BENCH_DURATION=5s bench/history.sh
#   BENCH_STORES="files dynamodb" bench/history.sh
#   BENCH_CONNECTIONS=2 BENCH_CITYFLOW=/tmp/cityflow bench/history.sh
#
# Needs wrk and /usr/bin/time (apt-get install wrk time). Servers, API and wrk share this
# machine's cores: the figures are for this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

RUNS="${BENCH_RUNS:-3}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
ARCS="${BENCH_ARCS:-10}"
STORES="${BENCH_STORES:-files mongodb dynamodb}"
WORK=".services/bench"
FILE="$WORK/ten-years-${ARCS}arcs.csv.gz"
mkdir -p "$WORK"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench/history.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done

# BENCH_CITYFLOW: a cityflow binary already built (then nothing is built).
if [[ -n "${BENCH_CITYFLOW:-}" ]]; then
  CITYFLOW="$(realpath "$BENCH_CITYFLOW")"
else
  cargo build --release -q -p cityflow-cli
  CITYFLOW="$PWD/target/release/cityflow"
fi
SERVICES_ONLY="mongodb dynamodb" scripts/services start >&2
eval "$(scripts/services env)"
MONGO_PY="$(ls -d .services/secantus-*/bin/python | head -n 1)"

if [[ ! -s "$FILE" ]]; then
  echo "generating $FILE ($ARCS arcs × ten years)…" >&2
  "$CITYFLOW" simulate comptages --arcs "$ARCS" --from 2016-01-01 --to 2025-12-31 --seed 3652 --out "$FILE" >&2
fi

server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# env_for STORE ID → the environment of that store, fresh names
env_for() {
  local store="$1" id="$2"
  echo "OUTPUT_DIR=$WORK/$id"
  echo "AWS_ACCESS_KEY_ID=test"
  echo "AWS_SECRET_ACCESS_KEY=test"
  echo "AWS_REGION=eu-west-3"
  echo "AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_TEST_ENDPOINT_URL"
  echo "DYNAMODB_REPORTS_TABLE=$id"
  echo "MONGODB_URL=$MONGODB_TEST_URL"
  echo "MONGODB_DATABASE=${id//-/_}"
  case "$store" in
    files) ;;
    mongodb) echo "DATABASE_TYPE=mongodb" ;;
    dynamodb) echo "DATABASE_TYPE=dynamodb" ;;
  esac
}

# one_run URL → "p50_ms p99_ms requests_per_s errors"
one_run() {
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$1" | awk '
    function ms(v) { if (v ~ /us$/) {sub(/us$/,"",v); return v/1000} if (v ~ /ms$/) {sub(/ms$/,"",v); return v} sub(/s$/,"",v); return v*1000 }
    /Requests\/sec:/ {rps=$2}
    /^ +50%/ {p50=ms($2)}
    /^ +99%/ {p99=ms($2)}
    /Socket errors:/ {gsub(/,/,""); err+=$4+$6+$8+$10}
    /Non-2xx or 3xx responses:/ {err+=$5}
    END {printf "%s %s %s %d\n", p50, p99, rps, err}'
}

PATHS=("/reports/2025-06-15" "/stats?from=2025-01-01&to=2025-12-31" "/reports?limit=1000")
NAMES=(report stats list)
declare -A P50 P99 RPS ERR BYTES
for store in $STORES; do
  id="history-$store-$(date +%s)-$RANDOM"
  mapfile -t vars < <(env_for "$store" "$id")
  env -i PATH="$PATH" "${vars[@]}" "$CITYFLOW" setup >/dev/null
  echo "$store: exporting ten years…" >&2
  env -i PATH="$PATH" "${vars[@]}" "$CITYFLOW" report generate --all --jobs 8 --json --comptages "$FILE" \
    >"$WORK/$store-history.json" 2>>"$WORK/$store-history.stderr" || {
    echo "$store: the export failed; see $WORK/$store-history.json and .stderr" >&2
    exit 1
  }
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["ok"] and len(s["exports"]) == 3653, "not 3,653 exports"' "$WORK/$store-history.json"

  port="$(free_port)"
  # Appended to, so that emptying it between requests leaves no hole at the server's offset.
  : >"$WORK/$store-serve.log"
  env -i PATH="$PATH" "${vars[@]}" RUST_LOG="warn,cityflow_storage_aws=debug" \
    "$CITYFLOW" serve --bind "127.0.0.1:$port" >/dev/null 2>>"$WORK/$store-serve.log" &
  server=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  base="http://127.0.0.1:$port"

  # One request of each, with the store's counters around it.
  for i in 0 1 2; do
    : >"$WORK/$store-serve.log"
    BYTES[$store.${NAMES[$i]}]="$(curl -fsS "$base${PATHS[$i]}" | wc -c)"
    if [[ $store == dynamodb ]]; then
      sleep 0.2
      echo "  $store ${NAMES[$i]}: $(grep -ac 'DynamoDB' "$WORK/$store-serve.log" || true) requests; $(grep -ao 'DynamoDB [A-Za-z]*.*' "$WORK/$store-serve.log" | sed 's/\x1b\[[0-9;]*m//g' | sort | uniq -c | tr -s ' ' | paste -sd ';')" >&2
      sed 's/\x1b\[[0-9;]*m//g' "$WORK/$store-serve.log" | grep -ao 'read_capacity_units=[0-9.]*\|items=[0-9]*\|scanned=[0-9]*' \
        | awk -F= -v s="$store" -v p="${NAMES[$i]}" '{t[$1]+=$2} END {printf "  %s %s: items %d, scanned %d, read capacity units %.1f\n", s, p, t["items"], t["scanned"], t["read_capacity_units"]}' >&2
    fi
  done
  if [[ $store == mongodb ]]; then
    "$MONGO_PY" - "$MONGODB_TEST_URL" "${id//-/_}" >&2 <<'PY'
import sys
from pymongo import MongoClient
db = MongoClient(sys.argv[1])[sys.argv[2]]
name = "reports"
plan = db.command("explain", {
    "find": name,
    "filter": {"date": {"$gte": "2025-01-01", "$lte": "2025-12-31"}},
    "projection": {"_id": 0, "date": 1, "summary": 1},
    "sort": {"date": 1},
}, verbosity="executionStats")
stats = plan.get("executionStats", {})
winning = plan.get("queryPlanner", {}).get("winningPlan", {})
def stages(p):
    while p:
        yield p.get("stage"), p.get("indexName")
        p = p.get("inputStage")
print(f"  mongodb stats: plan {list(stages(winning))}, returned {stats.get('nReturned')}, "
      f"keys examined {stats.get('totalKeysExamined')}, documents examined {stats.get('totalDocsExamined')}")
PY
  fi

  for run in $(seq "$RUNS"); do
    for i in 0 1 2; do
      read -r p50 p99 rps err < <(one_run "$base${PATHS[$i]}")
      key="$store.${NAMES[$i]}"
      echo "  run $run $store ${NAMES[$i]}: p50 $p50 ms, p99 $p99 ms, $rps req/s, $err errors" >&2
      P50[$key]+="$p50 "; P99[$key]+="$p99 "; RPS[$key]+="$rps "; ERR[$key]=$(( ${ERR[$key]:-0} + err ))
    done
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
done

echo
echo "3,653 reports per store; wrk -t2 -c$CONNECTIONS -d$DURATION, median of $RUNS runs, $(nproc) cores:"
printf '| store | path | bytes | p50 | p99 | requests/s | errors | p50 / report | p99 / report |\n|---|---|---|---|---|---|---|---|---|\n'
for store in $STORES; do
  # shellcheck disable=SC2086
  base50="$(median ${P50[$store.report]})"
  # shellcheck disable=SC2086
  base99="$(median ${P99[$store.report]})"
  for i in 0 1 2; do
    key="$store.${NAMES[$i]}"
    # shellcheck disable=SC2086
    awk -v s="$store" -v p="${PATHS[$i]}" -v b="${BYTES[$key]}" -v a="$(median ${P50[$key]})" -v c="$(median ${P99[$key]})" \
      -v r="$(median ${RPS[$key]})" -v e="${ERR[$key]}" -v a0="$base50" -v c0="$base99" \
      'BEGIN {printf "| %s | `%s` | %s | %.2f ms | %.2f ms | %s | %s | %.2f× | %.2f× |\n", s, p, b, a, c, r, e, a/a0, c/c0}'
  done
done
