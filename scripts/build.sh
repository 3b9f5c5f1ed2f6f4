#!/usr/bin/env bash
# Builds the wasm module and its glue into pkg/ (git-ignored). Incremental: cargo rebuilds only
# when sources change.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --quiet --release --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir pkg --out-name tokengate target/wasm32-unknown-unknown/release/tokengate.wasm
