#!/usr/bin/env bash
# Builds the release site: target/release/server and target/site (the split
# WASM, optimised by wasm-opt, with .br/.gz copies). Extra arguments go to
# `cargo leptos build`.
#
# The WASM is built with a standard library compiled for it (`-Zbuild-std`),
# so that the whole module can leave out two things:
# - WebAssembly reference types (`-Ctarget-feature=-reference-types`). With
#   them wasm-bindgen adds a second table (for JS values), and Debian's
#   wasm-opt (binaryen 108) rewrites the export of that table to point at the
#   function table: the page then fails at start-up with "WebAssembly.Table.set():
#   Argument 1 is invalid for table". The prebuilt standard library has them on.
# - Panic messages (`-Cpanic=immediate-abort`): a panic aborts at once without
#   formatting anything, about 9 % less WASM. In the browser a panic is then a
#   bare "RuntimeError: unreachable"; debug builds still print the message.
# `-Zbuild-std` and immediate-abort are unstable options. The toolchain here is
# a pinned stable rustc (1.95), so RUSTC_BOOTSTRAP=1 enables them for this
# build, and the standard library's source comes from rustup's `rust-src`.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[release]\033[0m %s\n' "$*" >&2; }

scripts/setup.sh --release
export RUSTC_BOOTSTRAP=1
# cargo-leptos adds these to the WASM build's RUSTFLAGS; the server's build is not affected.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Ctarget-feature=-reference-types"
lib_args=(--lib-cargo-args=-Zbuild-std=std,panic_abort)

log "cargo leptos build --release --split --precompress ${lib_args[*]} $*"
exec cargo leptos build --release --split --precompress "${lib_args[@]}" "$@"
