#!/usr/bin/env bash
# The BMW CarData node as a tool behind n8n's MCP Server Trigger in a real n8n 2.41.1 (Node 24, server mode),
# called with the official MCP SDK's client against the simulator: no language model. About a minute. The node
# comes from the packed package, installed into n8n's nodes folder. First run installs n8n (about 5 minutes).
# SKIP_BUILD=1 uses the tarballs already in build/ (otherwise `npm run packages` builds and packs first).
# The test bounds itself to 4 minutes and stops n8n.
exec bash "$(dirname "$0")/n8n-run.sh" n8n-mcp.js 270 "$@"
