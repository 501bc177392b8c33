#!/usr/bin/env bash
# Runs every test: Rust unit and service tests, the HTTP integration suite
# (the app in process, plus the real binary where the process matters), and
# Playwright in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
start=$(date +%s)

# cargo-leptos builds with type-erased views (which the WASM also uses); every
# cargo command below uses the same flag, so they share its build (see the
# Rust tests step).
erase="--cfg erase_components"

step() { printf '\n\033[1;34m== %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "formatting (cargo fmt --check)"
cargo fmt --all --check

# With the flags of the real builds (see below), so it lints the code that ships:
# the whole workspace with its tests for the host, and the app as the browser
# gets it (wasm32, `hydrate`).
step "layout (scripts/layout-check.py: file and function sizes, no import loops)"
python3 scripts/layout-check.py

step "lints (cargo clippy -D warnings: workspace, all targets; app and frontend for wasm32)"
RUSTFLAGS="$erase" cargo clippy --workspace --all-targets -- -D warnings
RUSTFLAGS="$erase" cargo clippy -p app -p frontend --features app/hydrate \
  --target wasm32-unknown-unknown -- -D warnings

# `--tests` builds the server's test binaries in the same cargo invocation as
# the server, so both see the features the test-only dependencies turn on
# (reqwest's hyper client and TLS). The Rust tests below then find every
# dependency compiled; without it, about 60 crates (hyper, rustls, sqlx,
# sea-orm, leptos, app, ...) are compiled twice, once per feature set.
step "build the site, the server and its tests (cargo leptos build --split --bin-cargo-args=--tests)"
cargo leptos build --split --bin-cargo-args=--tests

# The Rust tests reuse that build. cargo-leptos compiles the server with
# RUSTFLAGS="--cfg erase_components" (type-erased views, which the WASM also
# uses); with the same flags a plain cargo build has the same fingerprints, so
# the tests compile only the test targets cargo-leptos did not build, in the
# same target dir. (A build without the flag recompiles everything and leaves a
# target/debug/server whose pages do not hydrate.)
export RUSTFLAGS="$erase"

step "Rust tests (unit, services and HTTP integration on SQLite)"
TEST_DATABASE_URL= cargo test -p portcullis-core -p app -p server -p migration -p portcullis-client

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
# A no-op unless the test build relinked target/debug/server (same flags as above).
cargo leptos build --split --bin-cargo-args=--tests
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
