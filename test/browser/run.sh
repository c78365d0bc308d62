#!/usr/bin/env bash
# Browser tests with Chromium: the Node-RED editor, the sandbox's dashboard (FlowFuse Dashboard 2, installed by the
# sandbox from the npm registry), and the n8n editor (n8n is installed into the cache by test/e2e/n8n-install.sh on
# first use).
#   test/browser/run.sh [nodered|dashboard|n8n|all] [--shots DIR] [--keep]
# Default: nodered. SKIP_BUILD=1 skips the build (`npm run build`; `npm run packages` when n8n runs: n8n loads the
# packed n8n packages from build/). CHROMIUM_PATH overrides /usr/bin/chromium.
# Screenshots go to docs/images unless --shots DIR is given.
set -euo pipefail
cd "$(dirname "$0")/../.."

which=nodered
case "${1:-}" in
  nodered|dashboard|n8n|all) which=$1; shift ;;
esac

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "Chromium not found at $chromium: installing Debian's chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  chromium=/usr/bin/chromium
fi
export CHROMIUM_PATH=$chromium

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  if [ "$which" = nodered ] || [ "$which" = dashboard ]; then npm run build --silent; else npm run packages --silent; fi
fi

status=0
run() {
  # Each test bounds itself (Node-RED 3 minutes, the dashboard 4.5, n8n 4); the outer timeout is a backstop that also ends a hung process.
  local limit=$1
  shift
  timeout --kill-after=15 "$limit" node "$@" || status=1
}
if [ "$which" = nodered ] || [ "$which" = all ]; then
  run 240 test/browser/nodered.browser.js "$@"
fi
if [ "$which" = dashboard ] || [ "$which" = all ]; then
  run 300 test/browser/dashboard.browser.js "$@"
fi
if [ "$which" = n8n ] || [ "$which" = all ]; then
  # n8n 2.41.1 on Node 24, installed once into the cache (about 5 minutes the first time).
  test/e2e/n8n-install.sh >/dev/null
  run 300 test/browser/n8n.browser.js "$@"
fi
exit $status
