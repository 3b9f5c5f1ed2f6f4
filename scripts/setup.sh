# Sourced by the npm scripts: installs only what is missing. Safe to run repeatedly.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "tokengate: cargo not found; install Rust from rustup first" >&2
  exit 2
fi
