#!/usr/bin/env bash
# The n8n sandbox (npm run start:n8n) as a newcomer uses it: a busy port refused, the first and the next start
# with n8n 2.41.1 from the cache, the credential and the example workflows, a run of the charging-history one and
# of the stream one, Ctrl-C. About 2 to 4 minutes. The sandbox links the n8n packages it assembles in build/.
# First run installs n8n (about 5 minutes). SKIP_BUILD=1 skips `npm run build`. --empty-cache starts from an empty
# cache folder of its own (removed afterwards): the first start installs Node 24 and n8n itself, under `npm run`,
# as on a newcomer's machine (about 5 more minutes and 3 GB).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bound=630
if [[ " $* " == *" --empty-cache "* ]]; then
  BMW_CARDATA_CACHE="$(mktemp -d)"
  export BMW_CARDATA_CACHE
  trap 'rm -rf "$BMW_CARDATA_CACHE"' EXIT
  bound=1530
else
  "$here/n8n-install.sh" >/dev/null
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && npm run build --silent)
fi
# The test bounds itself (10 minutes, 25 with --empty-cache) and stops the sandbox; the outer timeout is a backstop.
timeout --kill-after=15 "$bound" node "$here/n8n-sandbox.js" "$@"
