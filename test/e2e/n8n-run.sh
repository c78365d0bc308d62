#!/usr/bin/env bash
# Runs one end-to-end script of test/e2e against a real n8n: installs n8n once (n8n-install.sh), builds and packs
# the packages unless SKIP_BUILD=1 (then the tarballs already in build/ are used), and runs the script under an
# outer timeout, a backstop: each script bounds itself and stops the n8n it started.
# Usage: n8n-run.sh <script.js> <seconds> [arguments of the script...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
script="$1"
seconds="$2"
shift 2
"$here/n8n-install.sh" >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && npm run packages --silent)
fi
timeout --kill-after=15 "$seconds" node "$here/$script" "$@"
