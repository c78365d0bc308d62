#!/usr/bin/env bash
# The packed packages as their users get them: the Node-RED tarball installed with plain npm into a fresh
# Node-RED 4.1 user directory loads every node (Node-RED's own loader, the node-red in node_modules), the same in
# Node-RED 5 on Node 24 (both from ~/.cache/bmw-cardata, see test/support/nodered5.sh), and
# `npx bmw-cardata --help` / `npx cardata-simulator --help` run from the bmw-cardata tarball in an empty folder.
# SKIP_BUILD=1 uses the tarballs already in build/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
[ -n "${SKIP_BUILD:-}" ] || npm run packages --silent >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

nr="$(ls build/node-red-contrib-bmw-cardata-[0-9]*.tgz)"
mkdir -p "$tmp/userdir" && (cd "$tmp/userdir" && echo '{"name":"node-red-project","private":true}' > package.json && npm install --no-audit --no-fund --silent "$root/$nr")
node test/support/nodered-load.js "$tmp/userdir"
nr5="$(bash test/support/nodered5.sh --install-only)"
node24="$(bash test/support/node24.sh)"
mkdir -p "$tmp/userdir5" && (cd "$tmp/userdir5" && echo '{"name":"node-red-project","private":true}' > package.json && PATH="$node24:$PATH" npm install --no-audit --no-fund --silent "$root/$nr")
NODE_RED_PATH="$nr5/node_modules/node-red" "$node24/node" test/support/nodered-load.js "$tmp/userdir5"

lib="$root/$(ls build/bmw-cardata-[0-9]*.tgz)"
mkdir -p "$tmp/empty" && cd "$tmp/empty"
npx --yes --package "$lib" bmw-cardata --help | head -3
npx --yes --package "$lib" cardata-simulator --help | head -3
echo "packages: the Node-RED package loads every node in Node-RED 4.1 and 5; bmw-cardata and cardata-simulator run from the tarball"
