#!/usr/bin/env bash
# Every test, from a fresh clone: formatting, lints, the Rust suite (Wycheproof, RFC vectors,
# attack classes, property tests). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --lib --target wasm32-unknown-unknown -- -D warnings
echo "== cargo test"
log=$(mktemp)
cargo test --quiet --tests -- --nocapture 2>&1 | tee "$log" | grep -v '^$'
status=${PIPESTATUS[0]}
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "rust: $passed passed, $failed failed"
[ "$status" = 0 ] || exit "$status"

echo "== wasm build + Node tests"
bash scripts/build.sh
node --test tests/js/
