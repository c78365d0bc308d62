#!/usr/bin/env bash
# n8n's verification scan, offline: analyzePackage() of @n8n/scan-community-package 0.32.0 on the unpacked n8n
# tarball and, with its SOURCE_FILE_PATTERNS, on the package's folder in the repository (its manifest, nodes/, credentials/: test/support/n8n-package-folder.js). Installed
# once into ~/.cache/bmw-cardata with --ignore-scripts (one of its dependencies insists on pnpm in a script).
# Needs build/n8n-nodes-bmw-cardata-*.tgz (npm run packages; SKIP_BUILD=1 uses the one there).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
scan="$cache/n8n-scan-0.32.0"
if [ ! -f "$scan/node_modules/@n8n/scan-community-package/package.json" ]; then
  mkdir -p "$scan" && echo '{"name":"n8n-scan","private":true}' > "$scan/package.json"
  npm install --prefix "$scan" --no-audit --no-fund --ignore-scripts --silent @n8n/scan-community-package@0.32.0
fi
cd "$root"
[ -n "${SKIP_BUILD:-}" ] || npm run packages --silent >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
unpack() { mkdir -p "$tmp/$1" && tar -xzf build/"$1"-[0-9]*.tgz -C "$tmp/$1"; }
unpack n8n-nodes-bmw-cardata && node test/support/n8n-scan.mjs "$scan" "$tmp/n8n-nodes-bmw-cardata/package" || status=1
node test/support/n8n-package-folder.js n8n-nodes-bmw-cardata "$tmp/source/n8n-nodes-bmw-cardata" && node test/support/n8n-scan.mjs "$scan" --source "$tmp/source/n8n-nodes-bmw-cardata" || status=1
# The stream package is for self-hosted n8n only: it keeps an MQTT connection (mqtt, timers) and is not offered
# for verification. Its count is shown, not enforced.
unpack n8n-nodes-bmw-cardata-stream && node test/support/n8n-scan.mjs "$scan" "$tmp/n8n-nodes-bmw-cardata-stream/package" | head -1 || true
exit $status
