#!/usr/bin/env bash
# Runs Portcullis on http://127.0.0.1:3000 with an embedded SQLite file under data/.
# Extra arguments go to `cargo leptos serve --split` (e.g. --release).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
[ -f .env ] || cp .env.example .env
exec cargo leptos serve --split "$@"
