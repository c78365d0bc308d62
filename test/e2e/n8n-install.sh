#!/usr/bin/env bash
# Installs Node 24 and n8n 2.41.1 once into ~/.cache/bmw-cardata (about 5 minutes and 3 GB the first time).
set -euo pipefail
CACHE="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE24="$CACHE/node24"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"
mkdir -p "$CACHE"

bash "$(dirname "$0")/../support/node24.sh" >/dev/null
export PATH="$NODE24/bin:$PATH"

if [ ! -f "$N8N_DIR/.installed" ]; then
  echo "Installing n8n $N8N_VERSION into $N8N_DIR (once: about 5 minutes and 3 GB)…" >&2
  mkdir -p "$N8N_DIR"
  cd "$N8N_DIR"
  echo '{"name":"n8n-runtime","private":true}' > package.json
  npm install "n8n@$N8N_VERSION" --no-audit --no-fund --ignore-scripts
  npm_config_nodedir="$NODE24" npm rebuild sqlite3 --build-from-source
  touch .installed
fi
echo "node24: $NODE24/bin/node"
echo "n8n: $N8N_DIR/node_modules/.bin/n8n"
