#!/usr/bin/env bash
# `npm start [-- --port N]` (or `PORT=N npm start`): builds, seeds the local KV, and serves the
# worker + inspector on workerd at 127.0.0.1:N (default 8787; wrangler dev, local mode; state in
# .wrangler/state). The port is checked before anything is built, and the curl lines are printed
# once the worker answers on it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8787}
while [ $# -gt 0 ]; do
  case "$1" in
    --port)
      [ $# -ge 2 ] || { echo "tokengate: --port needs a port number (npm start -- --port 8788)" >&2; exit 2; }
      port=$2
      shift 2
      ;;
    --port=*)
      port=${1#--port=}
      shift
      ;;
    -h | --help)
      echo "usage: npm start [-- --port N]   (or PORT=N npm start; default 8787)"
      exit 0
      ;;
    *)
      echo "tokengate: npm start takes --port N (or PORT=N), not \"$1\"" >&2
      exit 2
      ;;
  esac
done
# A busy port is found now, not after minutes of building.
node scripts/dev.mjs check "$port"
source scripts/setup.sh
if [ ! -f target/wasm32-unknown-unknown/release/tokengate_wasm.wasm ]; then
  echo "tokengate: building the wasm core (the first cargo build takes a few minutes; later ones are incremental)"
fi
bash scripts/build.sh
bash scripts/www.sh
echo "tokengate: seeding the local KV (.wrangler/state)"
mkdir -p .wrangler/demo
TOKENGATE_URL="http://127.0.0.1:$port" node scripts/seed.mjs >.wrangler/demo/ready.txt
echo "tokengate: starting wrangler dev on http://127.0.0.1:$port"
exec node scripts/dev.mjs serve "$port" .wrangler/demo/ready.txt
