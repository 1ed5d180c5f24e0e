#!/usr/bin/env bash
# Puts a Node 24 (current LTS) binary first on PATH. Source it: `. .ci/ensure-node.sh`.
# Uses the machine's node when it is already 24+, else installs the npm package node@24 into
# .tools/node (git-ignored) — it carries the official binary, so only the npm registry is needed.
NODE_WANTED_MAJOR=24
NODE_PACKAGE_VERSION="${NODE_PACKAGE_VERSION:-24.21.0}"
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_major node)" -ge "$NODE_WANTED_MAJOR" ]; then
  :
else
  _bin="$_root/.tools/node/node_modules/node/bin"
  if [ "$(_major "$_bin/node")" -lt "$NODE_WANTED_MAJOR" ]; then
    echo "installing Node $NODE_PACKAGE_VERSION into .tools/node (npm package node@$NODE_PACKAGE_VERSION)" >&2
    npm install --silent --no-save --no-audit --no-fund --prefix "$_root/.tools/node" "node@$NODE_PACKAGE_VERSION" >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_bin:$PATH"
fi
echo "using node $(node --version) at $(command -v node)" >&2
