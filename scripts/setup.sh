# Sourced by the npm scripts: installs only what is missing. Safe to run repeatedly.
set -euo pipefail
if ! command -v cargo >/dev/null 2>&1; then
  echo "tokengate: cargo not found; install Rust from rustup first" >&2
  exit 2
fi
rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
# wasm-bindgen-cli must match the crate version in Cargo.lock exactly; cached per machine.
WB_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
WB_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/tokengate/wasm-bindgen-$WB_VERSION"
export PATH="$WB_ROOT/bin:$PATH"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION\$"; then
  echo "tokengate: installing wasm-bindgen-cli $WB_VERSION (about 4 minutes, once per machine)"
  # Installed into a private directory beside the cache entry, then renamed into place: two
  # clones installing at once never use a half-written binary. The first rename wins; a later
  # one drops its copy, unless what it finds in place does not work (a broken older install).
  mkdir -p "$(dirname "$WB_ROOT")"
  WB_TMP=$(mktemp -d "$WB_ROOT.tmp.XXXXXX")
  # Not --quiet: cargo's "Compiling …" lines are the progress of this long step.
  cargo install --root "$WB_TMP" wasm-bindgen-cli --version "$WB_VERSION"
  if ! mv -T "$WB_TMP" "$WB_ROOT" 2>/dev/null; then
    if "$WB_ROOT/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $WB_VERSION\$"; then
      rm -rf "$WB_TMP"
    else
      mv -T "$WB_ROOT" "$WB_TMP.old" && mv -T "$WB_TMP" "$WB_ROOT" && rm -rf "$WB_TMP.old"
    fi
  fi
fi
# npm dependencies: installed when missing or when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tokengate: installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error
fi
# wrangler/Miniflare keep their state inside the project, never in the user's home.
export XDG_CONFIG_HOME="$PWD/.config"
