#!/usr/bin/env bash
# Browser tests of the editors with Chromium: the Node-RED editor, and the n8n editor when a local n8n is installed.
#   test/browser/run.sh [nodered|n8n|all] [--shots DIR] [--keep]
# Default: nodered. SKIP_BUILD=1 skips `npm run build`. CHROMIUM_PATH overrides /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."

which=nodered
case "${1:-}" in
  nodered|n8n|all) which=$1; shift ;;
esac

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "Chromium not found at $chromium: installing Debian's chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
  chromium=/usr/bin/chromium
fi
export CHROMIUM_PATH=$chromium

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  npm run build --silent
fi

status=0
run() {
  # The test bounds itself (3 minutes by default); the outer timeout is a backstop that also ends a hung process.
  timeout --kill-after=15 240 node "$@" || status=1
}
if [ "$which" = nodered ] || [ "$which" = all ]; then
  run test/browser/nodered.browser.js "$@"
fi
if [ "$which" = n8n ] || [ "$which" = all ]; then
  run test/browser/n8n.browser.js "$@"
fi
exit $status
