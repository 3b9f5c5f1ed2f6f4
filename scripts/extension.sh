#!/usr/bin/env bash
# Builds the DevTools extension (extension/) into a loadable folder, dist/extension/, and a zip,
# dist/tokengate-extension.zip (both git-ignored): the extension's files, the inspector's shared
# components and styles (www/), the browser entry of the library with the edge module, and the
# worker's credential extraction and issuer choice (worker/credentials.js, worker/gate.js) with
# their `tokengate` import pointed at that entry.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f pkg-edge/tokengate_bg.wasm ] || bash scripts/build.sh
out=dist/extension
rm -rf "$out" dist/tokengate-extension.zip
mkdir -p "$out/lib/js" "$out/lib/pkg-edge" "$out/lib/worker"
cp extension/*.html extension/*.js extension/*.css extension/manifest.json "$out/"
cp www/components.js www/style.css www/favicon.svg "$out/"
cp js/*.js "$out/lib/js/"
cp pkg-edge/tokengate.js pkg-edge/tokengate_bg.wasm "$out/lib/pkg-edge/"
for f in credentials.js gate.js; do
  sed "s#from 'tokengate';#from '../js/browser.js';#" "worker/$f" >"$out/lib/worker/$f"
done
node scripts/extension-icons.mjs "$out"
(cd "$out" && zip -qr ../tokengate-extension.zip .)
echo "tokengate: extension in $out/ and dist/tokengate-extension.zip"
