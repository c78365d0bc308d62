#!/usr/bin/env bash
# n8n's community-node lint (@n8n/node-cli's ESLint config, Node 24) on each n8n package as n8n sees it: its
# manifest as published beside its nodes, credential and icons (test/support/n8n-package-folder.js), with every
# rule as n8n sets it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
lint="$cache/n8n-lint"
export PATH="$(bash "$root/test/support/node24.sh"):$PATH"
if [ ! -f "$lint/node_modules/@n8n/node-cli/package.json" ]; then
  mkdir -p "$lint" && echo '{"private":true}' > "$lint/package.json"
  npm_config_yes=true npm install --prefix "$lint" --no-audit --no-fund --ignore-scripts --silent @n8n/node-cli@0.48.3
fi
work="$root/.n8n-lint"
trap 'rm -rf "$work"' EXIT
# lint_package NAME MAX_WARNINGS [PATHS...]: its nodes, the PATHS and the package's folder (its manifest, links to its sources), linted.
lint_package() {
  local name="$1" warnings="$2" dir="$work/$1"
  shift 2
  node "$root/test/support/n8n-package-folder.js" "$name" "$dir"
  cat > "$dir/eslint.config.mjs" <<CONFIG
import { config } from '$lint/node_modules/@n8n/node-cli/dist/configs/eslint.js';
export default [...config, ...${RULES:-[]}];
CONFIG
  (cd "$dir" && "$lint/node_modules/.bin/eslint" --max-warnings "$warnings" nodes/* "$@" package.json)
  echo "n8n lint of $name: no errors"
}
# 4 known warnings: the client ID, the device code and the code verifier are kept hidden on purpose; no homepage
# until the repository is public (the stream package: the homepage).
lint_package n8n-nodes-bmw-cardata 4 credentials/*
# The stream package is for self-hosted n8n only, installed beside the main one: it uses the main package's
# credential (declaring it again would register the credential type twice) and needs mqtt, so the rules against
# another package's credential and against runtime dependencies are off for it alone.
RULES="[{ rules: { '@n8n/community-nodes/no-credential-reuse': 'off', '@n8n/community-nodes/no-runtime-dependencies': 'off' } }]" \
  lint_package n8n-nodes-bmw-cardata-stream 1
