#!/bin/sh
# Installs dependencies when they are missing or older than package-lock.json, so that
# `npm run dev` and `npm test` work on a fresh clone. Node 22 comes from the `node`
# npm package (see package.json), so the machine's own Node version does not matter.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing dependencies..."
  # Not `npm ci`: see .ci/run.
  npm install --no-audit --no-fund
fi
