#!/usr/bin/env bash
# Installs what building and testing Portcullis needs, skipping what is already
# there: the wasm32 target, cargo-leptos 0.3.10, the wasm-bindgen CLI matching
# Cargo.lock; with `--test` also Debian's chromium and the end2end npm packages,
# with `--release` binaryen's wasm-opt from npm at the version in
# tools/package-lock.json (see scripts/release.sh), with `--bench` Debian's wrk.
# Flags combine.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# Installs Debian's package $2 unless the command $1 is already on PATH.
debian() {
  command -v "$1" >/dev/null 2>&1 && return
  log "installing Debian's $2"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
# Both tools are built from source. Their release profiles use fat LTO and one
# codegen unit, which makes the install several times slower and the tools no
# faster for a build (README, "Set-up time"): install them without.
quick_install=(--config profile.release.lto=false --config profile.release.codegen-units=16)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (about 2 minutes on 2 cores)"
  # --locked fails for 0.2.130: its lockfile pins a webpki-roots the registry no
  # longer serves. Only the `wasm-bindgen` binary is needed.
  cargo install wasm-bindgen-cli --version "$wb_version" --bin wasm-bindgen "${quick_install[@]}"
fi

if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  log "installing cargo-leptos 0.3.10 (0.3.11 needs a newer rustc)"
  cargo install cargo-leptos --locked --version 0.3.10 "${quick_install[@]}"
fi

for flag in "$@"; do
  case $flag in
    --test)
      debian chromium chromium
      # The multi-instance tests put a real nginx in front of two servers
      # (they start their own on a free port with a generated config).
      debian nginx nginx-light
      if [ ! -d end2end/node_modules/@playwright/test ]; then
        log "installing the end2end npm packages (no browser download)"
        (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
      fi
      ;;
    --release)
      # Without a wasm-opt on PATH cargo-leptos tries to download one and fails
      # here; Debian's (binaryen 108) miscompiles our WASM (scripts/release.sh).
      want=$(node -p 'require("./tools/package-lock.json").packages["node_modules/binaryen"].version.split(".")[0]')
      have() { tools/node_modules/.bin/wasm-opt --version 2>/dev/null | awk '{print $3}'; }
      if [ "$(have)" != "$want" ]; then
        log "installing binaryen $want (wasm-opt) from the npm registry into tools/"
        (cd tools && npm ci --no-audit --no-fund)
      fi
      # The one version check scripts/release.sh relies on.
      [ "$(have)" = "$want" ] || { log "tools/ wasm-opt is $(have), the lockfile pins $want"; exit 1; }
      ;;
    --bench) debian wrk wrk ;;
    *) log "unknown flag $flag (--test, --release, --bench)"; exit 2 ;;
  esac
done
