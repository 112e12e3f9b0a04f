#!/usr/bin/env bash
# The HTTP API against nginx, side by side in one run: wrk, 64 connections, GET of one
# report's JSON from `cityflow serve` (release build, file store) and the same bytes served
# by nginx as a static file; then the same with If-None-Match (the 304 path). Runs alternate
# between the two servers; the table gives the median of BENCH_RUNS runs.
#
#   bench/api.sh                                   # BENCH_RUNS=3 runs of 10 s each
#   BENCH_RUNS=5 BENCH_DURATION=20s bench/api.sh
#
# Needs wrk and nginx (apt-get install wrk nginx). Both servers, and wrk, share this
# machine's cores: the figures are for this machine, not for a server alone.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
RUNS="${BENCH_RUNS:-3}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS=64
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench/api.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done

cargo build --release -q -p cityflow-cli
CITYFLOW="$PWD/target/release/cityflow"
ROOT="$PWD"
WORK="$(mktemp -d)"
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cd "$WORK"
env -i PATH="$PATH" "$CITYFLOW" report generate --date 2026-03-10 --metrics-dir "$ROOT/examples/metrics" >/dev/null
API_PORT="$(free_port)"
env -i PATH="$PATH" "$CITYFLOW" serve --bind "127.0.0.1:$API_PORT" 2>serve.log >/dev/null &
server=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
API_URL="http://127.0.0.1:$API_PORT/reports/2026-03-10"

# nginx serves the very bytes the API sends, as a static file with the same type.
mkdir -p static/reports
curl -fsS "$API_URL" -o static/reports/2026-03-10
# nginx's workers drop root for an unprivileged user, which must be able to read the file.
chmod -R a+rX "$WORK"
NGINX_PORT="$(free_port)"
cat >nginx.conf <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type application/json;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/static; }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/reports/2026-03-10"
for _ in $(seq 50); do curl -fsS "$NGINX_URL" >/dev/null 2>&1 && break; sleep 0.1; done
cmp <(curl -fsS "$API_URL") <(curl -fsS "$NGINX_URL") || { echo "bench/api.sh: the two bodies differ" >&2; exit 1; }
etag_of() { curl -fsSI "$1" | awk 'tolower($1)=="etag:" {sub(/\r$/,""); print $2}'; }
API_ETAG="$(etag_of "$API_URL")"
NGINX_ETAG="$(etag_of "$NGINX_URL")"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $API_ETAG" "$API_URL")" == 304 ]]
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $NGINX_ETAG" "$NGINX_URL")" == 304 ]]
BYTES="$(stat -c %s static/reports/2026-03-10)"

# one_run URL [HEADER] → "requests_per_s p99_ms errors"
one_run() {
  local out
  if [[ $# -gt 1 ]]; then
    out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$2" "$1")"
  else
    out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$1")"
  fi
  awk '
    /Requests\/sec:/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); p=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); p=v} else {sub(/s$/,"",v); p=v*1000}}
    /Socket errors:/ {gsub(/,/,""); err+=$4+$6+$8+$10}
    /Non-2xx or 3xx responses:/ {err+=$5}
    END {printf "%s %s %d\n", rps, p, err}' <<<"$out"
}

declare -A RPS P99 ERR
for path in 200 304; do
  for server_name in cityflow nginx; do RPS[$path.$server_name]=""; P99[$path.$server_name]=""; ERR[$path.$server_name]=0; done
  for run in $(seq "$RUNS"); do
    # Alternate which server goes first.
    order=(cityflow nginx); ((run % 2 == 0)) && order=(nginx cityflow)
    for server_name in "${order[@]}"; do
      if [[ $server_name == cityflow ]]; then url=$API_URL; tag=$API_ETAG; else url=$NGINX_URL; tag=$NGINX_ETAG; fi
      if [[ $path == 304 ]]; then read -r rps p99 err < <(one_run "$url" "If-None-Match: $tag")
      else read -r rps p99 err < <(one_run "$url"); fi
      echo "  run $run $path $server_name: $rps req/s, p99 $p99 ms, $err errors" >&2
      RPS[$path.$server_name]+="$rps "; P99[$path.$server_name]+="$p99 "; ERR[$path.$server_name]=$(( ${ERR[$path.$server_name]} + err ))
    done
  done
done

echo
echo "GET /reports/2026-03-10 ($BYTES bytes of JSON), wrk -t2 -c$CONNECTIONS -d$DURATION, median of $RUNS runs, $(nproc) cores:"
printf '| path | server | requests/s | p99 latency | errors |\n|---|---|---|---|---|\n'
for path in 200 304; do
  for server_name in cityflow nginx; do
    # shellcheck disable=SC2086
    printf '| %s | %s | %s | %s ms | %s |\n' "$path" "$server_name" \
      "$(median ${RPS[$path.$server_name]})" "$(median ${P99[$path.$server_name]})" "${ERR[$path.$server_name]}"
  done
  # shellcheck disable=SC2086
  awk -v a="$(median ${RPS[$path.cityflow]})" -v b="$(median ${RPS[$path.nginx]})" \
      -v pa="$(median ${P99[$path.cityflow]})" -v pb="$(median ${P99[$path.nginx]})" -v p="$path" \
      'BEGIN {printf "| %s | cityflow / nginx | %.2f× | %.2f× | |\n", p, a/b, pa/pb}'
done
