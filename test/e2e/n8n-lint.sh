#!/usr/bin/env bash
# n8n's community-node lint (@n8n/node-cli's ESLint config, Node 24) on the n8n nodes, the credential and
# package.json. Two rules cannot apply to this package and are switched off here, each for a stated reason:
#  - no-runtime-dependencies: the same package serves Node-RED, whose nodes and the command line need axios,
#    luxon, mqtt and aedes at run time (the n8n nodes themselves use n8n's request helpers, not axios).
#  - require-node-api-error in the two adapters that hand errors to core (core's transport port expects its own
#    TransportError / CarDataError and turns them into the errors the node reports as NodeApiError).
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
export default [
  ...config,
  { files: ['package.json'], rules: { '@n8n/community-nodes/no-runtime-dependencies': 'off' } },
  { files: ['src/n8n/transport.ts', 'nodes/BmwCarDataStreamTrigger/tokens.ts'], rules: { '@n8n/community-nodes/require-node-api-error': 'off' } },
];
CONFIG
cd "$root"
"$lint/node_modules/.bin/eslint" -c "$config" --max-warnings 4 \
  nodes/BmwCarData nodes/BmwCarDataTrigger nodes/BmwCarDataStreamTrigger credentials/BmwCarDataApi.credentials.ts package.json
echo "n8n lint: no errors (4 known warnings: client ID, device code and code verifier are kept hidden on purpose; no homepage until the repository is public)"
