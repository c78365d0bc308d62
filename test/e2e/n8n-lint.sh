#!/usr/bin/env bash
# n8n's community-node lint (@n8n/node-cli's ESLint config, Node 24) on the n8n nodes, the credential and
# package.json, with every rule as n8n sets it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
lint="$cache/n8n-lint"
export PATH="$(bash "$root/test/support/node24.sh"):$PATH"
if [ ! -f "$lint/node_modules/@n8n/node-cli/package.json" ]; then
  mkdir -p "$lint" && echo '{"private":true}' > "$lint/package.json"
  npm_config_yes=true npm install --prefix "$lint" --no-audit --no-fund --ignore-scripts --silent @n8n/node-cli@0.48.3
fi
config="$root/.n8n-lint.tmp.mjs"
trap 'rm -f "$config"' EXIT
cat > "$config" <<CONFIG
import { config } from '$lint/node_modules/@n8n/node-cli/dist/configs/eslint.js';
export default config;
CONFIG
cd "$root"
"$lint/node_modules/.bin/eslint" -c "$config" --max-warnings 4 \
  nodes/BmwCarData nodes/BmwCarDataTrigger nodes/BmwCarDataStreamTrigger credentials/BmwCarDataApi.credentials.ts package.json
echo "n8n lint: no errors (4 known warnings: client ID, device code and code verifier are kept hidden on purpose; no homepage until the repository is public)"
