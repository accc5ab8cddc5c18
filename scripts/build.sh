#!/bin/sh
# The deployable bundle, exactly as `wrangler deploy` would upload it, without uploading:
# `wrangler deploy --dry-run --outdir dist`. Prints its size (raw and gzip, as Cloudflare
# counts it) and fails if it is over the Free plan's 3 MiB compressed limit.
set -eu
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
rm -rf dist
WRANGLER_LOG=warn npx wrangler deploy --dry-run --outdir dist
node -e '
const { readdirSync, readFileSync, statSync } = require("node:fs");
const { gzipSync } = require("node:zlib");
const files = readdirSync("dist").filter((f) => !f.endsWith(".map") && !f.endsWith(".md") && statSync("dist/" + f).isFile());
let raw = 0, gzip = 0;
for (const f of files) { const b = readFileSync("dist/" + f); raw += b.length; gzip += gzipSync(b, { level: 9 }).length; }
const kib = (n) => (n / 1024).toFixed(1) + " KiB";
console.log("Worker bundle (dist/, " + files.join(", ") + "): " + kib(raw) + ", gzip " + kib(gzip) + " (Free plan limit: 3 MiB gzip; Paid: 10 MiB)");
if (gzip > 3 * 1024 * 1024) { console.error("The bundle is over the Free plan limit."); process.exit(1); }
'
