#!/bin/sh
# The whole test suite, as CI runs it: lint + format check, generated types current,
# typecheck, then every test in workerd.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-install.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
npx biome ci .
npx wrangler types --strict-vars=false --env-file .dev.vars.example --check
npx tsc -p .
npx tsc -p tsconfig.node.json
npx vitest run "$@"
