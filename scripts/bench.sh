#!/usr/bin/env bash
# `npm run bench`: builds if needed, then prints the comparison tables (progress on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
bash scripts/build.sh
node bench/node.mjs
