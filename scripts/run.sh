#!/usr/bin/env bash
# Runs Portcullis on http://127.0.0.1:3000 with an embedded SQLite file under data/.
# Extra arguments go to `cargo leptos serve --split`. A release build is
# `scripts/release.sh`, then `target/release/server` (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do
  if [ "$arg" = "--release" ] || [ "$arg" = "-r" ]; then
    echo "scripts/run.sh serves a debug build; build release with scripts/release.sh" \
      "(it puts the pinned wasm-opt first on PATH: Debian's breaks the WASM)" >&2
    exit 2
  fi
done
scripts/setup.sh
[ -f .env ] || cp .env.example .env
exec cargo leptos serve --split "$@"
