#!/usr/bin/env bash
# Every test, from a fresh clone: formatting and lints (Rust and JS), the Rust suite (Wycheproof,
# RFC vectors, attack classes, property tests, cache), the TypeScript declarations, then the
# wasm build and the shared JS suite in Node, workerd and Chromium, plus the CLI.
# Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
# The wasm binding in both builds: full (Node, CLI, page) and edge (no signing or writers).
cargo clippy --quiet -p tokengate-wasm --target wasm32-unknown-unknown -- -D warnings
cargo clippy --quiet -p tokengate-wasm --target wasm32-unknown-unknown --no-default-features -- -D warnings
echo "== cargo test"
log=$(mktemp)
cargo test --quiet --tests -- --nocapture 2>&1 | tee "$log" | grep -v '^$'
status=${PIPESTATUS[0]}
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "rust: $passed passed, $failed failed"
[ "$status" = 0 ] || exit "$status"

echo "== fuzz (each target ~10 s from the committed corpus)"
bash scripts/fuzz.sh --seconds 10

echo "== prettier --check, tsc"
node_modules/.bin/prettier --check --log-level warn .
node_modules/.bin/tsc -p tests/types

echo "== wasm build"
bash scripts/build.sh
# Headless Chromium for the browser run of the suite (Debian's package).
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "tokengate: installing Debian chromium for the browser tests"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q chromium >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
fi
echo "== JS: shared suite in Node, workerd and Chromium; CLI; binding"
node --test --test-concurrency=1 tests/js/
