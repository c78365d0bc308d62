#!/usr/bin/env bash
# Runs the Node-RED tests (test/node-red) on Node 24 with Node-RED 5 (the current major), next to the usual run on Node 20 with
# Node-RED 4. Both are fetched from the npm registry once into ~/.cache/bmw-cardata. Build first: npm run build.
# --install-only: only make sure Node-RED 5 is in the cache and print its folder.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
nr5="$cache/nr5"

export PATH="$(bash "$root/test/support/node24.sh"):$PATH"

if [ ! -f "$nr5/node_modules/node-red/package.json" ]; then
  echo "installing Node-RED 5 into $nr5" >&2
  mkdir -p "$nr5"
  [ -f "$nr5/package.json" ] || echo '{"private":true}' > "$nr5/package.json"
  npm install --prefix "$nr5" --no-audit --no-fund --ignore-scripts --silent node-red@5
fi

if [ "${1:-}" = --install-only ]; then echo "$nr5"; exit 0; fi
echo "node $(node --version), node-red $(node -p "require('$nr5/node_modules/node-red/package.json').version")" >&2
cd "$root"
NODE_RED_PATH="$nr5/node_modules/node-red" exec node node_modules/mocha/bin/mocha.js --no-config --require tsx/cjs --exit --timeout 60000 \
  --reporter test/support/reporter.js "$@" test/node-red/*.test.ts
