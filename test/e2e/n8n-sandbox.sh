#!/usr/bin/env bash
# The n8n sandbox (npm run start:n8n) as a newcomer uses it: a busy port refused, the first and the next start
# with n8n 2.41.1 from the cache, the credential and the example workflows, a run of the charging-history one and
# of the stream one, Ctrl-C. About 2 to 4 minutes. The sandbox links the n8n packages it assembles in build/.
# First run installs n8n (about 5 minutes). SKIP_BUILD=1 skips `npm run build`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/n8n-install.sh" >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && npm run build --silent)
fi
# The test bounds itself to 10 minutes and stops the sandbox; the outer timeout is a backstop.
timeout --kill-after=15 630 node "$here/n8n-sandbox.js" "$@"
