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

step "build the site and the server (cargo leptos build --split)"
cargo leptos build --split

# The Rust tests reuse that build. cargo-leptos compiles the server with
# RUSTFLAGS="--cfg erase_components" (type-erased views, which the WASM also
# uses); with the same flags a plain cargo build has the same fingerprints, so
# the tests compile only their own code and link against the dependencies
# cargo-leptos built, in the same target dir. (A build without the flag would
# recompile everything and leave a target/debug/server whose pages do not
# hydrate.)
export RUSTFLAGS="--cfg erase_components"

step "Rust tests (unit + HTTP integration on SQLite)"
TEST_DATABASE_URL= cargo test -p app -p server -p migration -p portcullis-client

# PostgreSQL: the whole HTTP suite again, each test server on a fresh database
# of its own (`pt_…`, created by the tests, dropped below), when TEST_DATABASE_URL
# names a server or one answers on 127.0.0.1:5432 (the CI machine's: user
# postgres, trust auth, database test).
pg_base="${TEST_DATABASE_URL:-}"
if [ -z "$pg_base" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_base="postgres://postgres@127.0.0.1:5432/test"
fi
backends="SQLite"
if [ -n "$pg_base" ] && command -v psql >/dev/null; then
  step "Rust HTTP tests on PostgreSQL ($pg_base, a fresh database per test server)"
  drop_test_databases() {
    psql -qAt "$pg_base" -c "SELECT datname FROM pg_database WHERE datname LIKE 'pt\_%'" |
      while read -r db; do psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; done
  }
  trap drop_test_databases EXIT
  TEST_DATABASE_URL="$pg_base" cargo test -p server --tests
  backends="SQLite and PostgreSQL"
else
  step "PostgreSQL tests skipped: no TEST_DATABASE_URL and no server on 127.0.0.1:5432"
fi

unset RUSTFLAGS
step "browser tests (Playwright, Debian Chromium)"
# A no-op unless the test build relinked target/debug/server.
cargo leptos build --split
(cd end2end && npx playwright test)

# The release WASM is built differently (fat LTO, opt-level z, wasm-opt): build
# it the way a deploy does, hold it to its size budget, and run the browser
# specs that hydrate, sign in and load lazy chunks against the release server.
# It overwrites target/site, so it comes last.
step "release build (scripts/release.sh), its size budget and browser tests against it"
scripts/release.sh
bench/wasm-size.sh --check
(cd end2end && export E2E_SERVER=target/release/server &&
  npx playwright test split.spec.ts auth.spec.ts &&
  npx playwright test ux.spec.ts --grep "no console errors")

step "all tests passed (database backends: $backends)"
