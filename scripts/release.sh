#!/usr/bin/env bash
# Builds the release site with the stable toolchain: target/release/server and
# target/site (the split WASM, optimised by wasm-opt, with .br/.gz copies).
# Extra arguments go to `cargo leptos build`.
#
# The wasm-opt is binaryen's npm build, pinned in tools/package-lock.json and
# installed by `scripts/setup.sh --release`; it goes first on PATH because
# cargo-leptos takes the first wasm-opt it finds (and downloads one from GitHub
# when there is none, which fails here). Debian's binaryen 108 must not be the
# one: it rewrites the export of wasm-bindgen's second table (the JS values
# table that reference types bring) to point at the function table, and the
# page dies at start-up with "WebAssembly.Table.set(): Argument 1 is invalid
# for table" (binaryen #4711, fixed in 110).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[release]\033[0m %s\n' "$*" >&2; }

scripts/setup.sh --release
# setup.sh --release has checked tools/'s wasm-opt against the lockfile.
export PATH="$PWD/tools/node_modules/.bin:$PATH"
have=$(wasm-opt --version | awk '{print $3}')

# Panic locations in the WASM name their source files; name dependencies by
# crate (`crates/leptos-0.8.23/src/…`) rather than by this machine's cargo home,
# and our own files relative to the checkout. cargo-leptos adds its own flags to
# these. This keeps build paths out of what browsers download (and 0.4 KB gzip).
registry=(${CARGO_HOME:-$HOME/.cargo}/registry/src/*/)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=${registry[0]%/}=crates --remap-path-prefix=$PWD=."

log "cargo leptos build --release --split --precompress $* (wasm-opt $have)"
exec cargo leptos build --release --split --precompress "$@"
