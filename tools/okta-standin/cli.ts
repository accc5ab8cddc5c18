/**
 * `npm run okta:standin`: a local stand-in for an Okta org's Management API, so that
 * `npm run okta:hook` and `npm run okta:backfill` can be tried without an org. It keeps
 * its state in memory and starts with a day of System Log events.
 *
 *   npm run okta:standin -- [--port 8789] [--seed 300] [--logs-limit 60]
 */
import { parseArgs } from "node:util";
import { seedEvents } from "./seed";
import { startStandin } from "./server";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.OKTA_STANDIN_PORT ?? "8789" },
    seed: { type: "string", default: "300" },
    "logs-limit": { type: "string", default: "60" },
  },
});

const apiToken = process.env.OKTA_API_TOKEN || "standin-api-token";
const standin = await startStandin({
  port: Number(values.port),
  apiToken,
  logsLimit: Number(values["logs-limit"]),
});
const until = new Date();
standin.org.logs.push(...seedEvents(Number(values.seed), new Date(until.getTime() - 24 * 3600_000), until));

console.log(`Okta stand-in on ${standin.url} with ${standin.org.logs.length} System Log events from the last 24 hours.
Point the tools at it:

  export OKTA_ORG_URL=${standin.url} OKTA_API_TOKEN=${apiToken}
  npm run okta:hook -- register          # hook URL and secret from .dev.vars / PORT
  npm run okta:backfill -- --since ${new Date(until.getTime() - 24 * 3600_000).toISOString()}

Add events (delivered to verified, active hooks, as Okta does):
  curl -X POST ${standin.url}/standin/logs -H 'content-type: application/json' -d '[{...LogEvent...}]'
`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void standin.close().then(() => process.exit(0)));
}
setInterval(() => {
  const fresh = standin.org.requests.splice(0);
  for (const request of fresh) console.log(`${request.status} ${request.method} ${request.path}`);
}, 500);
