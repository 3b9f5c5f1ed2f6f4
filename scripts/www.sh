#!/usr/bin/env bash
# Copies the browser build of the package next to the inspector page (www/lib/, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p www/lib/js www/lib/pkg
cp js/*.js www/lib/js/
cp pkg/tokengate.js pkg/tokengate_bg.wasm www/lib/pkg/
