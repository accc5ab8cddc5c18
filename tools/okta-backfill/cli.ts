/**
 * `npm run okta:backfill -- --since T [--until T] [--types a,b] [--after CURSOR]`: fills
 * what Okta did not deliver from its System Log (see backfill.ts). Prints a progress
 * bar (cli-progress) on a terminal, a line per page otherwise, and a command to resume.
 */
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { isSystemEventType, SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";
import { OktaApiError, OktaClient } from "../okta-api/client";
import { type BackfillProgress, type BackfillRange, backfill, HookRefused } from "./backfill";

const USAGE = "usage: npm run okta:backfill -- --since 2026-11-01T00:00:00Z [--until T] [--types a,b] [--after CURSOR]";
const env = { ...(await readDevVars()), ...process.env };
const { values } = parseArgs({
  options: {
    since: { type: "string" },
    until: { type: "string" },
    types: { type: "string" },
    after: { type: "string" },
    limit: { type: "string", default: "1000" },
    url: { type: "string" },
  },
});

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

const iso = (value: string | undefined, name: string) => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? fail(`--${name} is not a date: ${value}`) : new Date(ms).toISOString();
};
const since = iso(values.since, "since") ?? fail("--since is required");
const until = iso(values.until, "until") ?? new Date().toISOString();
const types = values.types
  ? values.types.split(",").map((type) => type.trim())
  : SYSTEM_CATEGORY_EVENT_TYPES.map((type) => type.eventType);
const unknown = types.filter((type) => !isSystemEventType(type));
if (unknown.length > 0) fail(`not System Category event types: ${unknown.join(", ")}`);
if (!env.OKTA_ORG_URL || !env.OKTA_API_TOKEN) fail("OKTA_ORG_URL and OKTA_API_TOKEN must be set");
if (!env.OKTA_HOOK_SECRET) fail("OKTA_HOOK_SECRET must be set (the secret our hook accepts)");

const range: BackfillRange = { since, until, types, after: values.after, limit: Number(values.limit) };
const hook = {
  url: values.url ?? env.OKTA_HOOK_URL ?? new URL("/hooks/okta", localBaseUrl(env.PORT)).href,
  header: env.OKTA_AUTH_HEADER || "Authorization",
  secret: env.OKTA_HOOK_SECRET,
};
const resume = (cursor: string | null) =>
  `npm run okta:backfill -- --since ${since} --until ${until}${values.types ? ` --types ${types.join(",")}` : ""}${
    cursor ? ` --after ${cursor}` : ""
  }`;

// Progress is the share of the time range covered: the System Log gives no total count.
const span = Math.max(1, Date.parse(until) - Date.parse(since));
const tty = process.stderr.isTTY;
const bar = new SingleBar({
  format: "{bar} {percentage}% | {events} events, {pages} pages | up to {published}",
  hideCursor: true,
  stream: process.stderr,
});
if (tty) bar.start(span, 0, { events: 0, pages: 0, published: since });
let stopping = false;
process.on("SIGINT", () => {
  stopping = true;
});
let last: BackfillProgress = { pages: 0, events: 0, lastPublished: null, cursor: values.after ?? null };

const client = new OktaClient({
  orgUrl: env.OKTA_ORG_URL,
  apiToken: env.OKTA_API_TOKEN,
  onWait: (ms, why) => {
    if (!tty) console.log(`waiting ${Math.ceil(ms / 1000)} s for Okta's rate limit (${why})`);
  },
});
console.log(`backfill ${since} .. ${until}, ${types.length} event types, from ${env.OKTA_ORG_URL} to ${hook.url}`);
try {
  last = await backfill(client, range, hook, {
    shouldStop: () => stopping,
    onPage: (progress) => {
      last = progress;
      const published = progress.lastPublished ?? since;
      if (tty) bar.update(Date.parse(published) - Date.parse(since), { ...progress, published });
      else
        console.log(
          `page ${progress.pages}: ${progress.events} events so far, up to ${published}; cursor ${progress.cursor ?? "(end)"}`,
        );
    },
  });
  if (tty) bar.stop();
  if (last.cursor) console.log(`stopped after ${last.events} events. Resume with:\n  ${resume(last.cursor)}`);
  else
    console.log(
      `done: ${last.events} events in ${last.pages} pages sent to the hook (stored ones are skipped by uuid)`,
    );
} catch (err) {
  if (tty) bar.stop();
  if (!(err instanceof OktaApiError || err instanceof HookRefused || err instanceof TypeError)) throw err;
  console.error(`error: ${err.message}`);
  console.error(`resume with:\n  ${resume(last.cursor)}`);
  process.exitCode = 1;
}
