#!/usr/bin/env bash
# The Lambda function, measured under cargo-lambda's emulator against the test servers
# (scripts/services: LocalStack S3, DynamoDB Local):
#
#   - the deployment zip's size (cargo lambda build --release --output-format zip);
#   - init: from the process start to its "initialised" log line;
#   - one metrics day (the real fixture day, from S3) and one 14-day raw export streamed from
#     S3 (3,348 real arcs, gzip): the handler's own duration (from "event accepted" to "done"
#     in its JSON logs) and the process's peak RSS (VmHWM), a fresh process for each;
#   - the HTTP API function (cityflow-api-lambda) over ten years of simulated reports (3,653,
#     10 arcs) in DynamoDB Local, through the emulator's function URL: its zip, init, and for
#     GET /reports/2025-06-15, GET /stats over 2025 and GET /reports?limit=1000 the first
#     (cold) request, the median of BENCH_API_REQUESTS more, and the peak RSS, a fresh
#     process for each path. Times are the client's (curl's time_total), emulator included.
#
#   bench/lambda.sh                 # BENCH_RUNS=5 runs of each, medians
#   BENCH_DAYS=3 BENCH_RUNS=3 bench/lambda.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

RUNS="${BENCH_RUNS:-5}"
DAYS="${BENCH_DAYS:-14}"
WORK=".services/bench"
NETWORK="../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json"
mkdir -p "$WORK"

CARGO_LAMBDA="$(scripts/install-cargo-lambda)"
# cargo-lambda links with zig, which the pip package brings as `python3 -m ziglang`: its venv
# goes first on PATH.
PATH="$(dirname "$CARGO_LAMBDA"):$PATH"
"$CARGO_LAMBDA" lambda build --release -p cityflow-lambda --output-format zip >&2
ZIP="target/lambda/cityflow-report-lambda/bootstrap.zip"
API_ZIP="target/lambda/cityflow-api-lambda/bootstrap.zip"
cargo build --release -q -p cityflow-lambda -p cityflow-cli
FUNCTION="$PWD/target/release/cityflow-report-lambda"
API_FUNCTION="$PWD/target/release/cityflow-api-lambda"
CITYFLOW="$PWD/target/release/cityflow"

SERVICES_ONLY="s3 dynamodb" scripts/services start >&2
eval "$(scripts/services env)"
PY="$(ls -d .services/localstack-*/bin/python | head -n1)"

BUCKET="bench-fn-$(date +%s)"
export AWS_ENDPOINT_URL_S3="$S3_TEST_ENDPOINT_URL" AWS_ENDPOINT_URL_DYNAMODB="$DYNAMODB_TEST_ENDPOINT_URL"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export S3_REPORTS_BUCKET="$BUCKET" DYNAMODB_REPORTS_TABLE="$BUCKET"
(cd "$WORK" && CITYFLOW_ENV=aws "$CITYFLOW" setup >/dev/null)

to=$(date -u -d "2025-03-01 + $((DAYS - 1)) days" +%F)
EXPORT="$WORK/comptages-${DAYS}d.csv.gz"
if [[ ! -s "$EXPORT" ]]; then
  "$CITYFLOW" simulate comptages --network "$NETWORK" --from 2025-03-01 --to "$to" --seed 14 --out "$EXPORT" >&2
fi
"$PY" - "$S3_TEST_ENDPOINT_URL" "$BUCKET" "$EXPORT" <<'PY'
import sys, boto3
endpoint, bucket, export = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
for kind in ["bikes", "weather", "chantiers", "traffic"]:
    name = f"{kind}_metrics_2025-11-04.json"
    s3.upload_file(f"../shared/fixtures/cityflow-original/{name}", bucket, f"metrics/{name}")
s3.upload_file(export, bucket, "comptages/" + export.rsplit("/", 1)[1])
PY

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CARGO_LAMBDA" lambda watch --only-lambda-apis -A 127.0.0.1 -P "$PORT" >"$WORK/emulator.log" 2>&1 &
EMULATOR=$!
trap 'kill $EMULATOR 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

# one EVENT → "init_ms handler_ms peak_rss_kb" of a fresh function process
one() {
  local event="$1" log="$WORK/function.log" start pid
  rm -f "$log"
  start=$(date +%s.%N)
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 "$FUNCTION" >"$log" 2>&1 &
  pid=$!
  printf '%s' "$event" >"$WORK/event.json"
  "$CARGO_LAMBDA" lambda invoke _ --data-file "$WORK/event.json" -A 127.0.0.1 -P "$PORT" >"$WORK/answer.json"
  local rss
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  "$PY" - "$log" "$start" "$rss" <<'PY'
import json, sys, datetime
log, start, rss = sys.argv[1], float(sys.argv[2]), sys.argv[3]
t = {}
for line in open(log):
    e = json.loads(line)
    msg = e["fields"].get("message")
    ts = datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
    t.setdefault(msg, ts)
print(f'{(t["initialised"] - start) * 1000:.1f} {(t["done"] - t["event accepted"]) * 1000:.1f} {rss}')
PY
}

printf '%-28s %10s %12s %14s\n' "invocation" "init ms" "handler ms" "peak RSS MB"
for case in metrics comptages; do
  case "$case" in
    metrics) event='{"date": "2025-11-04"}'; label="metrics day (S3)" ;;
    comptages) event="{\"from\": \"2025-03-01\", \"to\": \"$to\", \"comptages\": \"s3://$BUCKET/comptages/$(basename "$EXPORT")\"}"
               label="$DAYS-day export (S3, gz)" ;;
  esac
  inits=() handlers=() rsss=()
  for _ in $(seq 1 "$RUNS"); do
    read -r i h r < <(one "$event")
    inits+=("$i"); handlers+=("$h"); rsss+=("$r")
  done
  printf '%-28s %10s %12s %14s\n' "$label" "$(median "${inits[@]}")" "$(median "${handlers[@]}")" \
    "$(awk -v k="$(median "${rsss[@]}")" 'BEGIN {printf "%.1f", k / 1024}')"
done
echo "zip: $ZIP, $(stat -c %s "$ZIP") bytes ($(du -h "$ZIP" | cut -f1)); medians of $RUNS runs, $(nproc) cores" 

# The HTTP API function over ten years of reports.
API_REQUESTS="${BENCH_API_REQUESTS:-20}"
HISTORY="$WORK/ten-years-10arcs.csv.gz"
if [[ ! -s "$HISTORY" ]]; then
  "$CITYFLOW" simulate comptages --arcs 10 --from 2016-01-01 --to 2025-12-31 --seed 3652 --out "$HISTORY" >&2
fi
API_TABLE="bench-api-$(date +%s)"
HISTORY_PATH="$PWD/$HISTORY"
(cd "$WORK" && DYNAMODB_REPORTS_TABLE="$API_TABLE" DATABASE_TYPE=dynamodb "$CITYFLOW" setup >/dev/null &&
  DYNAMODB_REPORTS_TABLE="$API_TABLE" DATABASE_TYPE=dynamodb OUTPUT_DIR="api-history" \
    "$CITYFLOW" report generate --all --jobs 8 --json --comptages "$HISTORY_PATH" >/dev/null)

# api_one PATH → "init_ms first_ms warm_median_ms peak_rss_kb status bytes" of a fresh API process
api_one() {
  local path="$1" log="$WORK/api-function.log" start pid first status bytes warm=()
  rm -f "$log"
  start=$(date +%s.%N)
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt" AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
    DATABASE_TYPE=dynamodb DYNAMODB_REPORTS_TABLE="$API_TABLE" "$API_FUNCTION" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q initialised "$log" 2>/dev/null && break; sleep 0.05; done
  read -r status bytes first < <(curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' \
    "http://127.0.0.1:$PORT/lambda-url/_$path")
  for _ in $(seq 1 "$API_REQUESTS"); do
    warm+=("$(curl -sS -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/lambda-url/_$path")")
  done
  local rss
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local init
  init=$("$PY" - "$log" "$start" <<'PY'
import json, sys, datetime
log, start = sys.argv[1], float(sys.argv[2])
for line in open(log):
    e = json.loads(line)
    if e["fields"].get("message") == "initialised":
        ts = datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
        print(f"{(ts - start) * 1000:.1f}")
        break
PY
)
  echo "$init $(awk -v t="$first" 'BEGIN {printf "%.1f", t * 1000}') $(awk -v t="$(median "${warm[@]}")" 'BEGIN {printf "%.1f", t * 1000}') $rss $status $bytes"
}

echo
printf '%-40s %8s %10s %10s %12s %7s %9s\n' "API request (3,653 reports)" "init ms" "first ms" "warm ms" "peak RSS MB" "status" "bytes"
for path in "/reports/2025-06-15" "/stats?from=2025-01-01&to=2025-12-31" "/reports?limit=1000"; do
  inits=() firsts=() warms=() rsss=()
  for _ in $(seq 1 "$RUNS"); do
    read -r i f w r status bytes < <(api_one "$path")
    [[ $status == 200 ]] || { echo "bench/lambda.sh: $path answered $status; see $WORK/api-function.log" >&2; exit 1; }
    inits+=("$i"); firsts+=("$f"); warms+=("$w"); rsss+=("$r")
  done
  printf '%-40s %8s %10s %10s %12s %7s %9s\n' "GET $path" "$(median "${inits[@]}")" "$(median "${firsts[@]}")" \
    "$(median "${warms[@]}")" "$(awk -v k="$(median "${rsss[@]}")" 'BEGIN {printf "%.1f", k / 1024}')" "$status" "$bytes"
done
echo "API zip: $API_ZIP, $(stat -c %s "$API_ZIP") bytes ($(du -h "$API_ZIP" | cut -f1)); medians of $RUNS processes, warm = median of $API_REQUESTS requests each"
