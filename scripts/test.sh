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
echo "== cargo test"
cargo test --quiet -- --nocapture 2>&1 | grep -v '^$'
