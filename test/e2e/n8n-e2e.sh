#!/usr/bin/env bash
# End to end in a real n8n 2.41.1 (Node 24) against the simulator, with the packed n8n package installed into
# n8n's nodes folder. First run installs n8n (about 5 minutes). SKIP_BUILD=1 uses the tarballs already in build/
# (otherwise `npm run packages` builds and packs first).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CACHE="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
N8N_VERSION="${N8N_VERSION:-2.41.1}"
"$here/n8n-install.sh" >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && npm run packages --silent)
fi
N8N_BIN="$CACHE/n8n-$N8N_VERSION/node_modules/n8n/bin/n8n" NODE24_BIN="$CACHE/node24/bin/node" node "$here/n8n-e2e.js"
