#!/usr/bin/env bash
# Builds the wasm module and its glue into pkg/ (git-ignored), then shrinks it with wasm-opt (npm
# `binaryen`). Incremental: cargo rebuilds only when sources change, and the bindgen/wasm-opt steps
# run only when cargo produced a newer module.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --quiet --release --target wasm32-unknown-unknown -p tokengate-wasm
raw=target/wasm32-unknown-unknown/release/tokengate_wasm.wasm
out=pkg/tokengate_bg.wasm
if [ -f "$out" ] && [ "$out" -nt "$raw" ] && [ pkg/tokengate.js -nt "$raw" ]; then
  exit 0
fi
wasm-bindgen --target web --out-dir pkg --out-name tokengate "$raw"
# The features Rust's wasm32 target emits by default; wasm-opt must not assume more.
node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue "$out" -o "$out.opt"
mv "$out.opt" "$out"
echo "tokengate: built pkg/ ($(stat -c %s "$out") bytes wasm, $(gzip -9c "$out" | wc -c) gzipped)"
