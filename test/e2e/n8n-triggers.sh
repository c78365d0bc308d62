#!/usr/bin/env bash
# Both triggers in active workflows of a real n8n 2.41.1 (Node 24, server mode) against the simulator: the polling
# trigger's new charging sessions and the stream trigger's live values. About 2 minutes (the polls are a minute
# apart). Both come from the packed packages, installed into n8n's nodes folder. First run installs n8n (about 5
# minutes). SKIP_BUILD=1 uses the tarballs already in build/ (otherwise `npm run packages` builds and packs first).
# The test bounds itself to 5 minutes and stops n8n.
exec bash "$(dirname "$0")/n8n-run.sh" n8n-triggers.js 330 "$@"
