#!/usr/bin/env bash
# Portcullis at scale (#17): PostgreSQL seeded with 1,000,000 users and
# 1,000,000 sessions, then measured, printed as a table. Not a test: numbers.
#
#   bench/scale.sh            # needs PostgreSQL (SCALE_DATABASE_URL, default
#                             # the machine's postgres://postgres@127.0.0.1:5432/test)
#
# It creates a database of its own (pt_scale_…, dropped at the end), starts
# the release server on it empty, measures refresh there (the baseline), seeds
# with two INSERT … SELECT generate_series statements (every user shares one
# argon2 hash, made by `server create-user`), restarts the server (start-up
# time) and measures: sign-in against the hash time, refresh, /api/me, the
# admin user search for a prefix and a substring, the sessions list, RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench >&2
log() { printf '\033[1;34m[scale]\033[0m %s\n' "$*" >&2; }

[ -x target/release/server ] || { log "building release (scripts/release.sh)"; scripts/release.sh >&2; }
cargo build -q --release -p portcullis-bench >&2
pg_base=${SCALE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
db="pt_scale_$(date +%s)"
url="${pg_base%/*}/$db"
psql -q "$pg_base" -c "CREATE DATABASE $db"
work=$(mktemp -d)
cleanup() {
  [ -e "$work/server.pid" ] && kill "$(cat "$work/server.pid")" 2>/dev/null
  sleep 0.5
  psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
secs=${BENCH_SECONDS:-10}
PW="correct horse battery"
export DATABASE_URL="$url" DATA_DIR="$work/data" RUST_LOG=warn LEPTOS_CONFIG=Leptos.toml LEPTOS_SITE_ROOT=target/site

# Starts the server; echoes the milliseconds until it printed its address.
start_server() {
  local t0; t0=$(date +%s%N)
  env LEPTOS_SITE_ADDR=127.0.0.1:0 RATE_LIMIT=off ACCESS_TOKEN_TTL=1h \
    REFRESH_REUSE_INTERVAL=0s target/release/server >"$work/server.out" 2>"$work/err.log" &
  echo $! >"$work/server.pid"
  for _ in $(seq 1 600); do
    if grep -q '^listening on ' "$work/server.out"; then
      echo $(( ($(date +%s%N) - t0) / 1000000 )); return
    fi
    sleep 0.01
  done
  log "server did not start: $(cat "$work/err.log")"; exit 1
}
stop_server() { kill "$(cat "$work/server.pid")"; wait "$(cat "$work/server.pid")" 2>/dev/null || true; rm -f "$work/server.pid"; }
base() { echo "http://$(sed -n 's/^listening on http:\/\///p' "$work/server.out" | head -1)"; }
token() {
  curl -sf -H 'Content-Type: application/json' \
    -d "{\"grant_type\":\"password\",\"username\":\"$1\",\"password\":\"$PW\"}" "$(base)/api/token" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
load() {
  wrk -t2 "$@" -d"${secs}s" --latency 2>/dev/null | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

log "empty database: migrate, create the admin and the bench user, baseline refresh"
start_empty=$(start_server)
for who in "admin admin" "bench user"; do
  set -- $who
  printf '%s\n' "$PW" | target/release/server create-user --username "$1" --role "$2" >/dev/null 2>&1
done
read -r rf0_p50 rf0_p99 _ rf0_err < <(python3 bench/scale_probe.py refresh "$(base)" bench "$PW" 250)
stop_server

log "seeding 1,000,000 users and 1,000,000 sessions"
t0=$(date +%s)
psql -q "$url" <<SQL
INSERT INTO users (id, username, username_key, password_hash, role, disabled, created_at)
SELECT gen_random_uuid(), 'user' || g, 'user' || g,
       (SELECT password_hash FROM users WHERE username_key = 'bench'), 'user', false, now()
FROM generate_series(1, 1000000) AS g;
INSERT INTO sessions (id, user_id, generation, created_at, last_used_at, expires_at, user_agent, ip)
SELECT gen_random_uuid(), id, 0, now(), now(), now() + interval '30 days', 'seeded', '10.0.0.1'
FROM users WHERE username_key LIKE 'user%';
VACUUM ANALYZE;
SQL
seed_s=$(( $(date +%s) - t0 ))

log "restart on the full database"
start_ms=$(start_server)
b=$(base)
admin=$(token admin)
bench=$(token bench)
hash_ms=$(target/release/portcullis-bench hash-time)
cat >"$work/signin.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"grant_type":"password","username":"user777777","password":"$PW"}'
LUA
read -r si_rps si_p50 si_p99 < <(load -c4 -s "$work/signin.lua" "$b/api/token")
read -r rf_p50 rf_p99 _ rf_err < <(python3 bench/scale_probe.py refresh "$b" bench "$PW" 250)
read -r me_rps me_p50 me_p99 < <(load -c32 -H "Authorization: Bearer $bench" "$b/api/me")
read -r pre_p50 pre_p99 _ pre_err < <(python3 bench/scale_probe.py get "$b" "$admin" "/api/admin/users?q=user12345" 1000)
read -r sub_p50 sub_p99 _ sub_err < <(python3 bench/scale_probe.py get "$b" "$admin" "/api/admin/users?q=98765" 1000)
read -r ses_p50 ses_p99 _ ses_err < <(python3 bench/scale_probe.py get "$b" "$bench" "/api/auth/sessions" 1000)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$(cat "$work/server.pid")/status")
errors=$((rf0_err + rf_err + pre_err + sub_err + ses_err))

cat <<TABLE

Portcullis at scale ($(nproc) cores, PostgreSQL $(psql -Atc 'SHOW server_version' "$url"), 1,000,000 users and 1,000,000 sessions, seeded in ${seed_s} s)

| measurement | result | target |
|---|---|---|
| start-up on the full database | ${start_ms} ms (empty: ${start_empty} ms) | ≤ 3 s |
| sign-in, POST /api/token (4 conns) | ${si_rps} req/s, p50 ${si_p50} ms, p99 ${si_p99} ms (one hash: ${hash_ms} ms) | |
| refresh (4 sequential rotation chains) | p50 ${rf_p50} ms, p99 ${rf_p99} ms (empty database: p50 ${rf0_p50}, p99 ${rf0_p99}) | p99 ≤ 2 × empty |
| GET /api/me, Bearer (32 conns) | ${me_rps} req/s, p50 ${me_p50} ms, p99 ${me_p99} ms | |
| admin search, prefix \`user12345\` | p50 ${pre_p50} ms, p99 ${pre_p99} ms | p99 ≤ 20 ms |
| admin search, substring \`98765\` | p50 ${sub_p50} ms, p99 ${sub_p99} ms | p99 ≤ 20 ms |
| sessions list, GET /api/auth/sessions | p50 ${ses_p50} ms, p99 ${ses_p99} ms | |
| server peak RSS | $((rss_kb / 1024)) MiB | ≤ 64 MiB |
| failed probe requests | ${errors} | 0 |
TABLE
