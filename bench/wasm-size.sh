#!/usr/bin/env bash
# Prints the release WASM's size, gzip -9 per file: the main module (all that
# `/` and `/login` load) and, for each lazily loaded page, main + that page's
# chunks (from the split manifest: page -> chunk files). With --check, exits 1
# when the main module or a page is over its budget: a regression guard set
# just above what the stable build measures today (2026-12-01, after #18's
# outage keeper and notice: main 270 610, largest page 330 008), not the targets of issue #15 (250 000 / 280 000),
# which the stable toolchain does not reach (README, "The WASM size"). The
# sizes are deterministic for one build, so this is not a flaky timing check.
# WASM_MAIN_BUDGET / WASM_PAGE_BUDGET override. Reads target/site/pkg as
# scripts/release.sh leaves it.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
main_budget=${WASM_MAIN_BUDGET:-271500}
page_budget=${WASM_PAGE_BUDGET:-331000}
gz() { gzip -9 -c "$1" | wc -c; }

[ -f "$pkg/__wasm_split_manifest.json" ] || { echo "no split release build in $pkg (run scripts/release.sh)" >&2; exit 2; }
main_raw=$(stat -c %s "$pkg/portcullis.wasm")
main_gz=$(gz "$pkg/portcullis.wasm")
main_br=$(stat -c %s "$pkg/portcullis.wasm.br" 2>/dev/null || echo "?")
echo "main $main_raw $main_gz $main_br"
over=0
[ "$main_gz" -le "$main_budget" ] || { echo "over budget: main module $main_gz > $main_budget bytes gzip" >&2; over=1; }
while read -r page files; do
  total=$main_gz
  for f in $files; do total=$((total + $(gz "$pkg/$f.wasm"))); done
  echo "page $page $total"
  [ "$total" -le "$page_budget" ] || { echo "over budget: $page $total > $page_budget bytes gzip" >&2; over=1; }
done < <(awk '/": \[/ { gsub(/[" :\[]/, ""); sub(/^__/, ""); sub(/_route_view_[0-9]+$/, ""); page = $0; files = ""; next }
  /^ *\]/ { print page, files; next }
  /"/ { gsub(/[",[:space:]]/, ""); files = files " " $0 }' "$pkg/__wasm_split_manifest.json")
if [ "${1:-}" = "--check" ] && [ "$over" -ne 0 ]; then exit 1; fi
