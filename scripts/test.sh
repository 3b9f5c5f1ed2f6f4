#!/usr/bin/env bash
# Every test, from a fresh clone: formatting and lints (Rust and JS), the Rust suite (Wycheproof,
# RFC vectors, attack classes, property tests, cache), the TypeScript declarations, then the
# wasm build and the shared JS suite in Node, workerd and Chromium, plus the CLI.
# Installs what is missing first.
#
# One part: `bash scripts/test.sh rust|node|workerd|browser` (npm run test:rust …); no argument
# runs them all. rust: fmt, clippy, the cargo suite, the fuzz targets. node: prettier, tsc, and
# the tests/js files that need only Node. workerd: the files that start workerd (they use
# tests/runtime/workerd.mjs, Miniflare, bench/load.mjs or `npm start`). browser: the files that
# drive Chromium (tests/runtime/chromium.mjs). The JS parts build the wasm first.
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
case "$part" in
  all | rust | node | workerd | browser) ;;
  *)
    echo "usage: bash scripts/test.sh [rust|node|workerd|browser]   (no argument: every part)" >&2
    exit 2
    ;;
esac
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }
# The tests/js files of one JS part, by the runtime harness each one uses.
js_files() {
  local f p
  for f in tests/js/*.test.mjs; do
    if grep -q 'runtime/chromium\.mjs' "$f"; then
      p=browser
    elif grep -qE 'runtime/workerd\.mjs|miniflare|bench/load\.mjs|scripts/start\.sh' "$f"; then
      p=workerd
    else
      p=node
    fi
    [ "$p" = "$1" ] && echo "$f"
  done
  return 0
}
source scripts/setup.sh

# ---- rust (the parts' steps are left unindented)
if want rust; then
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
# The wasm binding in both builds: full (Node, CLI, page) and edge (no signing or writers).
cargo clippy --quiet -p tokengate-wasm --target wasm32-unknown-unknown -- -D warnings
cargo clippy --quiet -p tokengate-wasm --target wasm32-unknown-unknown --no-default-features --features edge -- -D warnings
echo "== cargo test"
log=$(mktemp)
cargo test --quiet --tests -- --nocapture 2>&1 | tee "$log" | grep -v '^$'
status=${PIPESTATUS[0]}
# The edge build's own rules (RSA/ECDSA/EdDSA left to the host): only without default features.
if [ "$status" = 0 ]; then
  cargo test --quiet --no-default-features --test edge_build 2>&1 | tee -a "$log" | grep -v '^$'
  status=${PIPESTATUS[0]}
fi
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
echo "rust: $passed passed, $failed failed"
[ "$status" = 0 ] || exit "$status"

echo "== fuzz (each target ~10 s from the committed corpus)"
bash scripts/fuzz.sh --seconds 10
fi
if [ "$part" = rust ]; then exit 0; fi

# ---- node: JS formatting and the TypeScript declarations
if want node; then
echo "== prettier --check, tsc"
node_modules/.bin/prettier --check --log-level warn .
node_modules/.bin/tsc -p tests/types
fi

# ---- every JS part: the wasm build, then the tests
echo "== wasm build"
bash scripts/build.sh
# Headless Chromium for the browser run of the suite (Debian's package).
if want browser && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "tokengate: installing Debian chromium for the browser tests"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -q chromium >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
fi
if [ "$part" = all ]; then
echo "== JS: shared suite in Node, workerd and Chromium; CLI; binding"
node --test --test-concurrency=1 tests/js/
else
  mapfile -t files < <(js_files "$part")
  echo "== JS ($part): ${files[*]}"
  node --test --test-concurrency=1 "${files[@]}"
fi
