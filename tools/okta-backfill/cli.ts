/**
 * `npm run okta:backfill`: fills what Okta did not deliver from its System Log (see
 * backfill.ts). The events are stored first, store-only; then it says how many runs
 * they would start and what those would send (a replay's dry run), and starts them
 * only in start-runs mode. Prints a progress bar (cli-progress) on a terminal, a line
 * per page otherwise, and a command to resume that keeps every option.
 */
import { SingleBar } from "cli-progress";
import { NetworkError, parseCli, printedHelp, runCli, UsageError } from "../cli/args";
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";
import { OktaApiError, OktaClient } from "../okta-api/client";
import { describeReplay, ReplayRefused, replayRange } from "../replay/client";
import { type BackfillProgress, backfill, ServiceRefused } from "./backfill";
import { backfillOptions, resumeCommand, STORE_ONLY_OLDER_THAN_MS } from "./options";

const HELP = `npm run okta:backfill -- --since T [--until T] [--types a,b] [--store-only | --start-runs]
                          [--after CURSOR] [--limit N] [--url SERVICE_URL] [--source NAME]

Reads Okta's System Log for [--since, --until) and stores the events in our service,
store-only (POST /api/backfill/deliveries, with ADMIN_TOKEN): nothing starts. Then it
says how many runs the events would start and what they would send, and, in
start-runs mode, starts them through /api/replays (a run per (workflow, event), once).

  --since, --until   2026-11-01 (UTC midnight) or 2026-11-01T08:00:00Z / +01:00; a time
                     without an offset is refused. --until defaults to now.
  --store-only       store the events and start no run (the default when --since is
                     more than ${STORE_ONLY_OLDER_THAN_MS / 3_600_000} h ago)
  --start-runs       start the runs the events trigger (the default for a recent window)
  --types            System Category event types (default: all 13)
  --after            resume after this cursor (printed by an earlier run)
  --limit            events per System Log page, 1-1000 (default 1000)
  --url              our service (default SERVICE_URL, else the local dev server)
  --source           the named Okta org (OKTA_SOURCES) the events belong to

Needs OKTA_ORG_URL, OKTA_API_TOKEN and ADMIN_TOKEN (environment or .dev.vars).`;

runCli(HELP, async (argv) => {
  const { values } = parseCli(argv, {
    since: { type: "string" },
    until: { type: "string" },
    types: { type: "string" },
    after: { type: "string" },
    limit: { type: "string" },
    url: { type: "string" },
    source: { type: "string" },
    "store-only": { type: "boolean" },
    "start-runs": { type: "boolean" },
  });
  if (printedHelp(values, HELP)) return 0;
  const options = backfillOptions(values, new Date());
  const env = { ...(await readDevVars()), ...process.env };
  if (!env.OKTA_ORG_URL || !env.OKTA_API_TOKEN) throw new UsageError("OKTA_ORG_URL and OKTA_API_TOKEN must be set");
  if (!env.ADMIN_TOKEN) throw new UsageError("ADMIN_TOKEN must be set (the service's admin token)");
  const service = options.url ?? env.SERVICE_URL ?? localBaseUrl(env.PORT);
  const target = { url: service, adminToken: env.ADMIN_TOKEN, source: options.source };
  const { since, until, types } = options;

  console.log(`backfill ${since} .. ${until}, ${types.length} event types, from ${env.OKTA_ORG_URL} to ${service}`);
  console.log(
    options.mode === "store-only"
      ? `mode: store-only${options.modeByDefault ? ` (the window starts more than ${STORE_ONLY_OLDER_THAN_MS / 3_600_000} h ago; --start-runs to start runs)` : ""}: the events are kept, no run starts`
      : `mode: start-runs${options.modeByDefault ? " (a recent window; --store-only to start none)" : ""}: the events are stored first, then their runs start`,
  );

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
  let last: BackfillProgress = { pages: 0, events: 0, lastPublished: null, cursor: options.after ?? null };
  const say = (line: string) => {
    if (!tty) console.log(line);
  };
  const client = new OktaClient({
    orgUrl: env.OKTA_ORG_URL,
    apiToken: env.OKTA_API_TOKEN,
    onWait: (ms, why) => say(`waiting ${Math.ceil(ms / 1000)} s for Okta's rate limit (${why})`),
  });
  try {
    last = await backfill(client, options, target, {
      shouldStop: () => stopping,
      onRetry: (ms, why) => say(`Okta failed (${why}); trying again in ${Math.ceil(ms / 1000)} s`),
      onPage: (progress) => {
        last = progress;
        const published = progress.lastPublished ?? since;
        if (tty) bar.update(Date.parse(published) - Date.parse(since), { ...progress, published });
        say(
          `page ${progress.pages}: ${progress.events} events so far, up to ${published}; cursor ${progress.cursor ?? "(end)"}`,
        );
      },
    });
  } catch (err) {
    if (tty) bar.stop();
    if (!(err instanceof OktaApiError || err instanceof ServiceRefused || err instanceof NetworkError)) throw err;
    console.error(`error: ${err.message}`);
    console.error(
      `stored ${last.events} events (store-only, nothing started). Resume with:\n  ${resumeCommand(options, last.cursor)}`,
    );
    return 1;
  }
  if (tty) bar.stop();
  if (last.cursor) {
    console.log(
      `stopped after ${last.events} events (stored, nothing started). Resume with:\n  ${resumeCommand(options, last.cursor)}`,
    );
    return 0;
  }
  console.log(`stored: ${last.events} events in ${last.pages} pages (ones stored before are skipped by uuid)`);

  // The whole range, not only this run's pages: a resumed backfill plans for what earlier runs stored too.
  const request = { since, until, eventTypes: options.typesGiven ? types : undefined };
  try {
    const plan = await replayRange(service, env.ADMIN_TOKEN, { ...request, dryRun: true });
    for (const line of describeReplay(plan, false)) console.log(line);
    if (options.mode === "store-only") {
      if (plan.runs.length > 0) {
        const typesArg = options.typesGiven ? ` --types ${types.join(",")}` : "";
        console.log(
          `store-only: nothing started. To start them: npm run replay -- --since ${since} --until ${until}${typesArg} --run`,
        );
      }
      return 0;
    }
    if (plan.runs.length === 0) return 0;
    const started = await replayRange(service, env.ADMIN_TOKEN, { ...request, dryRun: false });
    console.log(
      `started: ${started.runs.length} runs, ${started.enqueued} events queued; replays ${started.replayIds.join(", ")} (GET /api/replays/ID)`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ReplayRefused || err instanceof NetworkError)) throw err;
    console.error(`error: the events are stored, but planning their runs failed: ${err.message}`);
    console.error(`see what they would start with: npm run replay -- --since ${since} --until ${until}`);
    return 1;
  }
});
