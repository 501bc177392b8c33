#!/usr/bin/env bash
# Runs every test: Rust unit and service tests, the HTTP integration suite
# against the real server binary, and Playwright in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
start=$(date +%s)

step() { printf '\n\033[1;34m== %s\033[0m (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "build the site and the server (cargo leptos build)"
cargo leptos build

step "Rust tests (unit + HTTP integration, SQLite${TEST_DATABASE_URL:+ and $TEST_DATABASE_URL})"
cargo test -p app -p server -p migration

step "browser tests (Playwright, Debian Chromium)"
(cd end2end && npx playwright test)

step "all tests passed"
