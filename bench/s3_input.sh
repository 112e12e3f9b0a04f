#!/usr/bin/env bash
# Raw open-data input read from S3 against the same file read from local disk.
#
# Simulates BENCH_DAYS days (default 14) on the 3,348 real arcs of the Paris network, plain
# and gzip, uploads both to the LocalStack S3 of scripts/services, then times, alternating,
# `cityflow report generate --all --comptages FILE` (reports to the file store) with FILE on
# local disk and with FILE as s3://…: whole-process wall time and peak RSS from
# /usr/bin/time -v, median of BENCH_RUNS (default 5) after one warm-up of each.
#
#   bench/s3_input.sh
#   BENCH_DAYS=3 BENCH_RUNS=3 bench/s3_input.sh     # a quick one
#
# LocalStack runs on the same 2 cores as cityflow and serves from loopback: the S3 figures
# include its CPU time, and real S3 is bound by network throughput instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

DAYS="${BENCH_DAYS:-14}"
RUNS="${BENCH_RUNS:-5}"
WORK=".services/bench"
NETWORK="../shared/fixtures/cityflow-original/referentiel_metrics_2025-11-04.json"
mkdir -p "$WORK"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }
[[ -s "$NETWORK" ]] || { echo "needs $NETWORK (../shared beside the repository)" >&2; exit 1; }
cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"

SERVICES_ONLY="s3" scripts/services start >&2
eval "$(scripts/services env)"
LOCALSTACK_PY="$(ls -d .services/localstack-*/bin/python | head -n1)"

to=$(date -u -d "2025-03-01 + $((DAYS - 1)) days" +%F)
BUCKET="bench-input-$(date +%s)"
for ext in csv csv.gz; do
  file="$WORK/comptages-${DAYS}d.$ext"
  if [[ ! -s "$file" ]]; then
    echo "generating $file (3,348 arcs × $DAYS days)…" >&2
    "$CITYFLOW" simulate comptages --network "$NETWORK" --from 2025-03-01 --to "$to" --seed 14 --out "$file" >&2
  fi
done
echo "uploading to s3://$BUCKET/ on $S3_TEST_ENDPOINT_URL…" >&2
"$LOCALSTACK_PY" - "$S3_TEST_ENDPOINT_URL" "$BUCKET" "$WORK/comptages-${DAYS}d.csv" "$WORK/comptages-${DAYS}d.csv.gz" <<'PY'
import sys, boto3
endpoint, bucket, *files = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=bucket)
for f in files:
    s3.upload_file(f, bucket, "comptages/" + f.rsplit("/", 1)[1])
PY

# one INPUT OUTDIR → "wall_s rss_kb" of one run, reports written to OUTDIR
one() {
  local input="$1" out="$2" timing
  timing="$(mktemp)"
  rm -rf "$out"
  env -i PATH="$PATH" OUTPUT_DIR="$out" AWS_ENDPOINT_URL_S3="$S3_TEST_ENDPOINT_URL" \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    /usr/bin/time -v -o "$timing" "$CITYFLOW" report generate --all --comptages "$input" >/dev/null 2>>"$WORK/s3_input.stderr" || {
      echo "run on $input failed; see $WORK/s3_input.stderr" >&2; exit 1; }
  echo "$(wall_seconds "$timing") $(peak_rss_kb "$timing")"
  rm -f "$timing"
}

printf '%-8s %-6s %10s %10s %12s %12s %8s %8s\n' "input" "size" "disk s" "s3 s" "disk RSS MB" "s3 RSS MB" "wall ×" "RSS ×"
for ext in csv csv.gz; do
  file="$WORK/comptages-${DAYS}d.$ext"
  url="s3://$BUCKET/comptages/$(basename "$file")"
  one "$file" "$WORK/out-disk" >/dev/null
  one "$url" "$WORK/out-s3" >/dev/null
  dw=() sw=() dr=() sr=()
  for _ in $(seq 1 "$RUNS"); do
    read -r w r < <(one "$file" "$WORK/out-disk"); dw+=("$w"); dr+=("$r")
    read -r w r < <(one "$url" "$WORK/out-s3"); sw+=("$w"); sr+=("$r")
  done
  d=$(median "${dw[@]}"); s=$(median "${sw[@]}"); drss=$(median "${dr[@]}"); srss=$(median "${sr[@]}")
  printf '%-8s %-6s %10s %10s %12d %12d %8.2f %8.2f\n' "$ext" "$(du -h "$file" | cut -f1)" "$d" "$s" \
    $((drss / 1024)) $((srss / 1024)) "$(awk -v a="$s" -v b="$d" 'BEGIN {print a / b}')" \
    "$(awk -v a="$srss" -v b="$drss" 'BEGIN {print a / b}')"
done
echo "median of $RUNS runs each, alternating, $(nproc) cores; reports to the file store" >&2
