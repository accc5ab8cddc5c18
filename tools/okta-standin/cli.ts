/**
 * `npm run okta:standin`: a local stand-in for an Okta org's Management API, so that
 * `npm run okta:hook` and `npm run okta:backfill` can be tried without an org. It keeps
 * its state in memory and starts with a day of System Log events.
 */
import { intOption, parseCli, portOption, printedHelp, runCli } from "../cli/args";
import { seedEvents } from "./seed";
import { startStandin } from "./server";

const DEFAULT_PORT = 8789;
const HELP = `Local stand-in for an Okta org's Management API (event hooks, System Log), in memory.

Usage: npm run okta:standin -- [--port <n>] [--seed <n>] [--logs-limit <n>]

  --port <n>         port on 127.0.0.1 (default $OKTA_STANDIN_PORT, else ${DEFAULT_PORT})
  --seed <n>         System Log events to start with, spread over the last 24 hours (default 300)
  --logs-limit <n>   /api/v1/logs requests allowed a minute before a 429 (default 60)
  -h, --help         this text

Environment: OKTA_API_TOKEN (the token it accepts; default standin-api-token),
OKTA_STANDIN_PORT (the port, when --port is not given).`;

runCli(HELP, async (argv) => {
  const { values } = parseCli(argv, {
    port: { type: "string" },
    seed: { type: "string" },
    "logs-limit": { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const port = portOption(values.port, "port", process.env.OKTA_STANDIN_PORT, DEFAULT_PORT);
  const seed = intOption(values.seed, "seed", 300, { min: 0, max: 100_000 });
  const logsLimit = intOption(values["logs-limit"], "logs-limit", 60);

  const apiToken = process.env.OKTA_API_TOKEN || "standin-api-token";
  const standin = await startStandin({ port, apiToken, logsLimit });
  const until = new Date();
  const since = new Date(until.getTime() - 24 * 3600_000);
  standin.org.logs.push(...seedEvents(seed, since, until));

  console.log(`Okta stand-in on ${standin.url} with ${standin.org.logs.length} System Log events from the last 24 hours.
Point the tools at it:

  export OKTA_ORG_URL=${standin.url} OKTA_API_TOKEN=${apiToken}
  npm run okta:hook -- register          # hook URL and secret from .dev.vars / PORT
  npm run okta:backfill -- --since ${since.toISOString()}

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
  return undefined;
});
