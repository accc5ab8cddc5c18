#!/bin/sh
# The whole test suite, as CI runs it: lint + format check, generated types current,
# typecheck, every test in workerd, then the dashboard's browser suite (headless
# Chromium against `wrangler dev`; .ci/run installs Debian's chromium when it is absent), then
# the Node-side tools: the Okta org tools (Okta stand-in, `wrangler dev`) and the deploy
# tools (a stand-in `wrangler` on PATH).
# With arguments (test files or filters), only the workerd tests run, filtered.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-install.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
npx biome ci .
npx wrangler types --strict-vars=false --env-file .dev.vars.example --check
npx tsc -p .
npx tsc -p tsconfig.node.json
npx vitest run "$@"
if [ "$#" -eq 0 ]; then
  if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    echo "The browser suite needs Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}: apt-get install -y chromium" >&2
    exit 1
  fi
  npx vitest run -c vitest.browser.config.ts
  npx vitest run -c vitest.tools.config.ts
fi
