#!/usr/bin/env bash
# Copies the browser build of the package next to the inspector page (www/lib/, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
# The page loads js/browser.js, which loads the edge module (pkg-edge/).
mkdir -p www/lib/js www/lib/pkg-edge
cp js/*.js www/lib/js/
cp pkg-edge/tokengate.js pkg-edge/tokengate_bg.wasm www/lib/pkg-edge/
