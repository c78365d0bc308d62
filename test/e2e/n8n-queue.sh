#!/usr/bin/env bash
# The BMW CarData node in a real n8n 2.41.1 in queue mode (Node 24; one main, two workers, Redis, PostgreSQL)
# against the simulator: 20 concurrent executions with an expired access token. About 2 minutes. The first run
# installs n8n (about 5 minutes) and, when missing, Debian's redis-server and postgresql (apt-get, as root or with
# sudo; apt may start their default services, which the test does not use). The test starts its own Redis and
# PostgreSQL on loopback ports in temporary folders and stops them after it.
# The node comes from the packed package. SKIP_BUILD=1 uses the tarballs already in build/ (otherwise
# `npm run packages` builds and packs first).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$here/n8n-install.sh" >/dev/null

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -n "$(pg_bin)" ] || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && npm run packages --silent)
fi
# The test bounds itself to 5 minutes and stops what it started; the outer timeout is a backstop.
PG_BIN="$(pg_bin)" REDIS_SERVER="$(command -v redis-server)" timeout --kill-after=15 330 node "$here/n8n-queue.js" "$@"
