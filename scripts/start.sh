#!/usr/bin/env bash
# `npm start`: builds, seeds the local KV, and serves the worker + inspector on workerd at
# 127.0.0.1:8787 (wrangler dev, local mode; state in .wrangler/state).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
bash scripts/build.sh
bash scripts/www.sh
node scripts/seed.mjs
exec node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state --test-scheduled --show-interactive-dev-session=false
