#!/bin/sh
# Starts the service locally: installs if needed, creates .dev.vars, applies the D1
# migrations to the local database, prints the hook URL and secret, then runs
# `wrangler dev` with local D1, Queues, Durable Objects and cron. No Cloudflare account needed.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-install.sh
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  echo "Created .dev.vars from .dev.vars.example"
fi
npx wrangler d1 migrations apply DB --local
PORT="${PORT:-8787}"
secret=$(sed -n 's/^OKTA_HOOK_SECRET="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars)
admin=$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars)
cat <<INFO

  Okta hook URL:   http://127.0.0.1:$PORT/hooks/okta
  Hook secret:     $secret   (sent in the Authorization header)
  Dashboard:       http://127.0.0.1:$PORT/  (sign in with the admin token: $admin)
  Admin API:       http://127.0.0.1:$PORT/api  (Authorization: Bearer $admin)

  Try it:          npm run okta -- send system.import.start
INFO
exec npx wrangler dev --local --ip 127.0.0.1 --port "$PORT" --test-scheduled
