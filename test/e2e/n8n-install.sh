#!/usr/bin/env bash
# Installs Node 24 and n8n 2.41.1 once into ~/.cache/bmw-cardata (about 5 minutes and 3 GB the first time).
# BMW_CARDATA_CACHE names another cache folder. The install counts as done (the .checked marker) only once n8n has
# been seen to start from it: it answers with its version and opens its SQLite database. An install that does not
# (no SQLite binding for Node 24, an interrupted download) is rebuilt at the next run rather than kept.
set -euo pipefail
CACHE="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE24="$CACHE/node24"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"
N8N_BIN="$N8N_DIR/node_modules/n8n/bin/n8n"
mkdir -p "$CACHE"

bash "$(dirname "$0")/../support/node24.sh" >/dev/null
export PATH="$NODE24/bin:$PATH"

# n8n starts from the cache: `n8n --version` names the pinned version and a database command runs in a scratch
# user folder (n8n creates its SQLite database there, which needs sqlite3's binding built for Node 24).
starts() {
  local scratch version status=0
  scratch="$(mktemp -d)"
  version="$("$NODE24/bin/node" "$N8N_BIN" --version 2>"$scratch/version.log")" || status=$?
  if [ "$status" = 0 ] && [ "$(echo "$version" | tail -1)" != "$N8N_VERSION" ]; then
    echo "n8n --version answered \"$version\", not $N8N_VERSION" > "$scratch/version.log"
    status=1
  fi
  if [ "$status" = 0 ]; then
    N8N_USER_FOLDER="$scratch" N8N_DIAGNOSTICS_ENABLED=false N8N_VERSION_NOTIFICATIONS_ENABLED=false \
      "$NODE24/bin/node" "$N8N_BIN" list:workflow > "$scratch/db.log" 2>&1 || status=$?
  fi
  if [ "$status" != 0 ]; then
    echo "n8n does not start from $N8N_DIR:" >&2
    tail -n 5 "$scratch"/*.log >&2 || true
  fi
  rm -rf "$scratch"
  return "$status"
}

if [ ! -f "$N8N_DIR/.checked" ]; then
  fresh=0
  if [ ! -f "$N8N_DIR/node_modules/n8n/package.json" ]; then
    echo "Installing n8n $N8N_VERSION into $N8N_DIR (once: about 5 minutes and 3 GB)…" >&2
    rm -rf "$N8N_DIR"
    mkdir -p "$N8N_DIR"
    echo '{"name":"n8n-runtime","private":true}' > "$N8N_DIR/package.json"
    (cd "$N8N_DIR" && npm install "n8n@$N8N_VERSION" --no-audit --no-fund --ignore-scripts)
    fresh=1
  fi
  if [ "$fresh" = 1 ] || ! starts; then
    # sqlite3's binding, built for Node 24. Its build runs as an install script: scripts stay on here even when
    # this runs under `npm run` in a clone whose .npmrc sets ignore-scripts (npm hands that on to its scripts as
    # npm_config_ignore_scripts, and a rebuild without scripts builds nothing).
    echo "Building SQLite for Node 24 in $N8N_DIR (once)…" >&2
    (cd "$N8N_DIR" && npm_config_ignore_scripts=false npm_config_nodedir="$NODE24" npm rebuild sqlite3 --build-from-source --ignore-scripts=false)
    starts || { echo "Delete $N8N_DIR and run this again to install n8n afresh." >&2; exit 1; }
  fi
  touch "$N8N_DIR/.checked"
fi
echo "node24: $NODE24/bin/node"
echo "n8n: $N8N_BIN"
