#!/usr/bin/env bash
# Runs every test: Rust unit and service tests, the HTTP integration suite
# against the real server binary, and Playwright in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
start=$(date +%s)

step() { printf '\n\033[1;34m== %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

# Clippy (`cargo clippy -p app -p server -p migration --tests -- -D warnings`, clean
# today) is left out: its cold check build would push a fresh CI run past 30 minutes.
step "formatting (cargo fmt --check)"
cargo fmt --all --check

step "build the site and the server (cargo leptos build)"
cargo leptos build

# cargo-leptos builds debug code with `--cfg erase_components`; a plain cargo build
# of the same server does not, and its pages would not hydrate against the WASM.
# A separate target dir keeps the two builds from overwriting each other's
# target/debug/server (the one Playwright runs) and from rebuilding each other.
export CARGO_TARGET_DIR="$PWD/target/rust-tests"

step "Rust tests (unit + HTTP integration on SQLite)"
TEST_DATABASE_URL= cargo test -p app -p server -p migration

# PostgreSQL: the session suite (rotation races included) runs against a fresh
# database when TEST_DATABASE_URL names a server, or when one answers on
# 127.0.0.1:5432 (the CI machine's: user postgres, trust auth).
pg_base="${TEST_DATABASE_URL:-}"
if [ -z "$pg_base" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_base="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -n "$pg_base" ] && command -v psql >/dev/null; then
  db="portcullis_test_$(date +%s)_$$"
  psql -q "$pg_base" -c "CREATE DATABASE $db" >/dev/null
  step "Rust session tests on PostgreSQL (database $db)"
  TEST_DATABASE_URL="${pg_base%/*}/$db" cargo test -p server --test sessions
  psql -q "$pg_base" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
else
  step "PostgreSQL tests skipped: no TEST_DATABASE_URL and no server on 127.0.0.1:5432"
fi

unset CARGO_TARGET_DIR
step "browser tests (Playwright, Debian Chromium)"
(cd end2end && npx playwright test)

step "all tests passed"
