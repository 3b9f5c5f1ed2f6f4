#!/usr/bin/env bash
# Builds the two wasm modules and their glue (both git-ignored), then shrinks each with wasm-opt
# (npm `binaryen`):
#   pkg/       the full module (default features): every algorithm in pure Rust, signing, key
#              generation, the KV writers. Node and the CLI load it (js/node.js).
#   pkg-edge/  the edge module (`--no-default-features --features edge`, cargo profile `edge`:
#              optimised for size, see Cargo.toml): policy, parsing, HMAC and ES256K, with
#              RSA/ECDSA/EdDSA signatures left to the host's WebCrypto. The `workerd` and
#              `browser` entries load it, and it is what `wrangler deploy` uploads.
# The edge module has its own target directory: both are cdylibs of one crate, and cargo would
# otherwise overwrite one with the other (and relink both on every build).
# Incremental: cargo rebuilds only when sources change, and the bindgen/wasm-opt steps run only
# when cargo produced a newer module.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The features Rust's wasm32 target emits by default; wasm-opt must not assume more.
WASM_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

module() { # NAME OUT-DIR CARGO-PROFILE CARGO-ARGS...
  local name=$1 dir=$2 profile=$3
  shift 3
  cargo build --quiet --profile "$profile" --target wasm32-unknown-unknown -p tokengate-wasm "$@"
  local target=target
  if [ "${1:-}" = --target-dir ]; then target=$2; fi
  local raw=$target/wasm32-unknown-unknown/$profile/tokengate_wasm.wasm
  local out=$dir/tokengate_bg.wasm
  if [ -f "$out" ] && [ "$out" -nt "$raw" ] && [ "$dir/tokengate.js" -nt "$raw" ]; then
    return 0
  fi
  local input=${raw%.wasm}.single-value.wasm
  node scripts/single-value.mjs "$raw" "$input"
  wasm-bindgen --target web --out-dir "$dir" --out-name tokengate "$input"
  # -O3 for both: on the size-optimised edge build -Oz saves under 0.5% and made ES256K 8% slower.
  # The edge module also runs the passes until they stop shrinking it (--converge): 0.45% smaller
  # gzipped at the same speed, for about 16 s more of wasm-opt.
  # Both keep a function with one caller out of line (-ocimfs 0, before -O3 so its passes see
  # it). V8 compiles a hot function whole when it tiers it up: inlined into one another, the
  # edge module's HS256 hot functions were 80 KB of code for its optimising compiler, with the
  # error paths and the other algorithms' code; apart, 57 KB (bench/edge.mjs measures it).
  # Each module is also about 5 KB smaller gzipped, at the same speed.
  local opt=(-ocimfs 0 -O3)
  if [ "$name" = edge ]; then opt+=(--converge); fi
  node_modules/.bin/wasm-opt "${opt[@]}" "${WASM_FEATURES[@]}" "$out" -o "$out.opt"
  mv "$out.opt" "$out"
  echo "tokengate: built $dir/ ($name: $(stat -c %s "$out") bytes wasm, $(gzip -9c "$out" | wc -c) gzipped)"
}

module full pkg release
module edge pkg-edge edge --target-dir target/edge --no-default-features --features edge
