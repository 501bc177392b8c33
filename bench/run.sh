#!/usr/bin/env bash
# Portcullis benchmarks, side by side, in one run: builds release (server and
# WASM), starts the server on loopback with RATE_LIMIT=off, and prints
#   1. cookie GET /api/me vs a bare axum HS256 handler (the floor), with the ratio
#   2. Bearer GET /api/me
#   3. sign-in throughput vs the hash bound (cores / one argon2id hash)
#   4. GET /api/me p99 while 16 connections flood sign-in
#   5. server-side render of /dashboard
#   6. release WASM size: the main module (raw, gzip -9, brotli) and, per
#      lazily loaded page, the main module plus the chunks that page loads
#   7. server peak RSS
# Load comes from wrk (Debian) on the same machine. Each load step runs
# BENCH_SECONDS (default 10) seconds; step 1 runs BENCH_ROUNDS (default 3)
# rounds. BENCH_SERVER_ENV adds environment variables to the server (e.g.
# BENCH_SERVER_ENV="MALLOC_ARENA_MAX=2").
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${BENCH_SECONDS:-10}"
log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

scripts/setup.sh --bench

log "building release (scripts/release.sh; cargo build --release -p portcullis-bench)"
scripts/release.sh >&2
cargo build --release -p portcullis-bench >&2

work=$(mktemp -d)
cleanup() { for f in "$work"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT

# Starts a command that prints "listening on http://ADDR"; echoes ADDR. (It runs
# in a command substitution, so the pid goes to a file.)
start() {
  local name=$1 out="$work/$1.out"; shift
  "$@" >"$out" 2>"$work/err.log" &
  echo $! >"$work/$name.pid"
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$out"; then sed -n 's/^listening on http:\/\///p' "$out" | head -1; return; fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$work/err.log")" >&2; exit 1
}

log "starting the server (release, fresh SQLite, RATE_LIMIT=off)"
addr=$(start server env LEPTOS_CONFIG=Leptos.toml LEPTOS_SITE_ADDR=127.0.0.1:0 LEPTOS_SITE_ROOT=target/site \
  DATA_DIR="$work/data" RATE_LIMIT=off ACCESS_TOKEN_TTL=1h RUST_LOG=warn ${BENCH_SERVER_ENV:-} target/release/server)
server_pid=$(cat "$work/server.pid")
base="http://$addr"
curl -sf -o /dev/null -H "Origin: $base" -H "x-portcullis-csrf: 1" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"correct horse battery"}' "$base/api/auth/register"
cookie=$(curl -sf -D - -o /dev/null -H "Origin: $base" -H "x-portcullis-csrf: 1" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"correct horse battery"}' "$base/api/auth/login" |
  awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /^portcullis-at=/ {print $2}')
bearer=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"grant_type":"password","username":"bench","password":"correct horse battery"}' "$base/api/token" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')

floor_addr=$(start floor target/release/portcullis-bench floor)
floor_token=$(sed -n 's/^token //p' "$work/floor.out")

# wrk -> "req/s p50_ms p99_ms"
load() {
  wrk -t2 "$@" -d"${secs}s" --latency 2>/dev/null | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

# Step 1 alternates the two servers for BENCH_ROUNDS rounds (default 3) and
# keeps each one's median run: wrk shares the 2 cores, and a single pair of
# runs taken a few seconds apart swung the ratio between 0.67x and 0.89x.
rounds="${BENCH_ROUNDS:-3}"
median() { sort -n | awk '{ row[NR] = $0 } END { print row[int((NR + 1) / 2)] }'; }
log "1. cookie /api/me and the floor, alternately, $rounds rounds"
: >"$work/me.runs"; : >"$work/floor.runs"
for _ in $(seq 1 "$rounds"); do
  load -c32 -H "Cookie: $cookie" "$base/api/me" >>"$work/me.runs"
  load -c32 -H "Authorization: Bearer $floor_token" "http://$floor_addr/me" >>"$work/floor.runs"
done
read -r me_rps me_p50 me_p99 < <(median <"$work/me.runs")
read -r fl_rps fl_p50 fl_p99 < <(median <"$work/floor.runs")
me_all=$(awk '{ printf "%s%s", sep, $1; sep = ", " }' "$work/me.runs")
fl_all=$(awk '{ printf "%s%s", sep, $1; sep = ", " }' "$work/floor.runs")
log "2. bearer /api/me"
read -r br_rps br_p50 br_p99 < <(load -c32 -H "Authorization: Bearer $bearer" "$base/api/me")

log "3. sign-in throughput and the hash bound"
cat >"$work/signin.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"grant_type":"password","username":"bench","password":"correct horse battery"}'
LUA
# The same environment as the server, so ARGON2_* overrides are timed too.
hash_ms=$(env ${BENCH_SERVER_ENV:-} target/release/portcullis-bench hash-time)
cores=$(nproc)
read -r si_rps si_p50 si_p99 < <(load -c16 -s "$work/signin.lua" "$base/api/token")
bound=$(awk -v c="$cores" -v h="$hash_ms" 'BEGIN { printf "%.1f", c * 1000 / h }')

log "4. /api/me p99 during a 16-connection sign-in flood"
wrk -t1 -c16 -d"$((secs + 2))s" -s "$work/signin.lua" "$base/api/token" >/dev/null 2>&1 &
flood=$!
sleep 1
read -r fd_rps fd_p50 fd_p99 < <(load -c4 -H "Cookie: $cookie" "$base/api/me")
wait "$flood" || true

log "5. server-side render of /dashboard"
read -r ssr_rps ssr_p50 ssr_p99 < <(load -c16 -H "Cookie: $cookie" "$base/dashboard")

# 6. The WASM (bench/wasm-size.sh): the main module every page loads, and each lazily loaded page's
# own chunks (from the split manifest: page -> chunk files), gzip -9 each file.
sizes=$(bench/wasm-size.sh)
read -r _ wasm_raw wasm_gz wasm_br < <(grep '^main ' <<<"$sizes")
served=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: br, gzip' "$base/pkg/portcullis.wasm" |
  awk 'tolower($1) == "content-encoding:" { gsub(/\r/, ""); print $2 }')
pages=$(awk '/^page / { printf " %s=%s", $2, $3 }' <<<"$sizes")
largest=$(awk -v m="$wasm_gz" 'BEGIN { l = m } /^page / && $3 > l { l = $3 } END { print l }' <<<"$sizes")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")

log "8. limit counters under 100,000 distinct addresses and names (in-memory store)"
limits_line=$(cargo bench -q -p portcullis-bench --bench limits_memory 2>/dev/null | grep '^limit counters')

ratio=$(awk -v a="$me_rps" -v b="$fl_rps" 'BEGIN { printf "%.2f", a / b }')
si_ratio=$(awk -v a="$si_rps" -v b="$bound" 'BEGIN { printf "%.2f", a / b }')
cat <<TABLE

Portcullis benchmark ($(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), ${secs}s per step, wrk on the same machine)

| # | measurement | result | target |
|---|---|---|---|
| 1 | cookie GET /api/me (median of ${rounds}: ${me_all}) | ${me_rps} req/s, p50 ${me_p50} ms, p99 ${me_p99} ms | |
| 1 | floor: bare axum + HS256 Bearer (median of ${rounds}: ${fl_all}) | ${fl_rps} req/s, p50 ${fl_p50} ms, p99 ${fl_p99} ms | |
| 1 | ratio cookie /api/me ÷ floor (medians) | ${ratio}× | ≥ 0.9× |
| 2 | Bearer GET /api/me | ${br_rps} req/s, p50 ${br_p50} ms, p99 ${br_p99} ms | |
| 3 | sign-in (POST /api/token, 16 conns) | ${si_rps} req/s, p99 ${si_p99} ms | |
| 3 | hash bound (${cores} cores ÷ ${hash_ms} ms) | ${bound} /s; ratio ${si_ratio}× | ≥ 0.9× |
| 4 | GET /api/me during a sign-in flood | p50 ${fd_p50} ms, p99 ${fd_p99} ms (${fd_rps} req/s) | p99 ≤ 25 ms |
| 5 | SSR GET /dashboard | ${ssr_rps} req/s, p50 ${ssr_p50} ms, p99 ${ssr_p99} ms | |
| 6 | release WASM, main module (every page) | ${wasm_raw} bytes raw, ${wasm_gz} bytes gzip -9, ${wasm_br} bytes brotli (served as: ${served:-uncompressed}) | ≤ 250 000 bytes gzip |
| 6 | main + chunks of each lazy page, gzip -9 |${pages} | |
| 6 | largest page's WASM, gzip -9 | ${largest} bytes | ≤ 280 000 bytes |
| 7 | server peak RSS | $((rss_kb / 1024)) MiB | ≤ 50 MB |
| 8 | ${limits_line:-limit counters: not measured} | | bounded |
TABLE
