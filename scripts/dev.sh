#!/bin/sh
# Starts the service locally: installs if needed, creates .dev.vars, applies the D1
# migrations to the local database, prints the hook URL and secret, then runs
# `wrangler dev` with local D1, Queues, Durable Objects, and the cron fired every minute
# (tools/dev-server.ts). No Cloudflare account needed.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-install.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  echo "Created .dev.vars from .dev.vars.example"
fi
# A .dev.vars made by an older version may lack settings added since.
missing=$(sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' .dev.vars.example | while read -r name; do
  grep -q "^$name=" .dev.vars || printf ' %s' "$name"
done)
if [ -n "$missing" ]; then
  echo "note: .dev.vars lacks$missing (see .dev.vars.example)"
fi

# Wrangler prints the migration table after each migration: keep its output for failures.
log=$(mktemp)
if ! npx wrangler d1 migrations apply DB --local >"$log" 2>&1; then
  cat "$log"
  rm -f "$log"
  exit 1
fi
applied=$(sed -n 's/.*About to apply \([0-9]*\) migration.*/\1/p' "$log")
echo "Local D1: ${applied:-no} new migration(s) applied"
rm -f "$log"

PORT="${PORT:-8787}"
export PORT
secret=$(sed -n 's/^OKTA_HOOK_SECRET="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars)
admin=$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars)
# The tools follow PORT; say so when it is not the default.
tool=""
[ "$PORT" = 8787 ] || tool="PORT=$PORT "
cat <<INFO

  Okta hook URL:   http://127.0.0.1:$PORT/hooks/okta
  Hook secret:     $secret   (sent in the Authorization header)
  Dashboard:       http://127.0.0.1:$PORT/  (sign in with the admin token: $admin)
  Admin API:       http://127.0.0.1:$PORT/api  (Authorization: Bearer $admin)
  API reference:   http://127.0.0.1:$PORT/api/docs/
  Cron:            fired every minute, on the minute
  Inspector:       wrangler's, on ${INSPECTOR_PORT:-9229 (or the next free port)}; INSPECTOR_PORT moves it
  Changed .dev.vars? Restart npm run dev.

  Try it:          ${tool}npm run okta -- send system.import.start
                   ${tool}npm run workflows:load
                   npm run catcher      (receives the examples' Slack messages)
INFO
exec npx tsx tools/dev-server.ts
