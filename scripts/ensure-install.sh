#!/bin/sh
# Installs dependencies with `npm ci` (exactly package-lock.json) when they are missing or
# older than the lock file, so that `npm run dev` and `npm test` work on a fresh clone.
# Node 22 comes from the `node` npm package (see package.json), so the machine's own Node
# version does not matter.
set -eu
cd "$(dirname "$0")/.."
if [ -x node_modules/.bin/wrangler ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  exit 0
fi
echo "Installing dependencies (npm ci)..."
log=$(mktemp)
status=0
npm ci --no-audit --no-fund 2>"$log" || status=$?
# npm checks `engines` against the Node that runs npm itself. On an older Node it warns
# (EBADENGINE, five lines each) about this project and its tools, which all run on the Node
# 22 installed just now. Those are expected: one line replaces them; every other line stays.
bad_engines=$(grep -c '^npm warn EBADENGINE *package:' "$log" || true)
grep -v '^npm warn EBADENGINE' "$log" >&2 || true
rm -f "$log"
if [ "$bad_engines" -gt 0 ]; then
  # Under `npm run`, `node` on PATH is already the project's Node 22: ask the Node that runs npm.
  echo "note: npm itself runs on Node $("${npm_node_execpath:-node}" --version); its $bad_engines EBADENGINE warnings are expected: the scripts run on Node $(npx --no-install node --version) from the node package."
fi
exit "$status"
