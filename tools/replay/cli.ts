/**
 * `npm run replay`: replays stored events against the enabled workflows through
 * `/api/replays`. It always says first what would happen: the runs that would start,
 * what they would send (actions by kind and target) and the waits that would resolve.
 * Without `--run` (or with `--store-only`) that is all: nothing starts. With `--run` it
 * then starts them (runs marked as replayed; a pair that ran never runs again).
 */
import { instantOption, parseCli, printedHelp, runCli, UsageError } from "../cli/args";
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";
import { describeReplay, replayRange } from "./client";

const HELP = `npm run replay -- --since T [--until T] [--types a,b] [--asset ID] [--run | --store-only] [--url URL]

Replays stored events published in [--since, --until) against the enabled workflows.
First a dry run: how many runs would start and what they would send. --run then starts
them; without it (or with --store-only) nothing starts.

  --since, --until   2026-11-01 (UTC midnight) or 2026-11-01T08:00:00Z / +01:00;
                     --until defaults to now
  --types            only these System Category event types
  --asset            only events on this asset (Event Field id)
  --url              our service (default SERVICE_URL, else the local dev server)

Needs ADMIN_TOKEN (environment or .dev.vars).`;

runCli(HELP, async (argv) => {
  const { values } = parseCli(argv, {
    since: { type: "string" },
    until: { type: "string" },
    types: { type: "string" },
    asset: { type: "string" },
    run: { type: "boolean" },
    "store-only": { type: "boolean" },
    url: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  if (values.since === undefined) throw new UsageError("--since is required");
  if (values.run && values["store-only"]) throw new UsageError("--run and --store-only contradict each other");
  const since = instantOption(values.since, "since");
  const until = values.until === undefined ? new Date().toISOString() : instantOption(values.until, "until");
  if (Date.parse(since) >= Date.parse(until))
    throw new UsageError(`--since (${since}) must be before --until (${until})`);
  const env = { ...(await readDevVars()), ...process.env };
  const base = values.url ?? env.SERVICE_URL ?? localBaseUrl(env.PORT);
  const request = {
    since,
    until,
    eventTypes: values.types?.split(",").map((type) => type.trim()),
    assetId: values.asset,
  };
  const plan = await replayRange(base, env.ADMIN_TOKEN ?? "", { ...request, dryRun: true });
  console.log(`${plan.events} stored events from ${since} to ${until}`);
  for (const line of describeReplay(plan, false)) console.log(line);
  if (!values.run) {
    if (plan.runs.length > 0) console.log("dry run: nothing started. Add --run to start these runs.");
    return 0;
  }
  if (plan.runs.length === 0) return 0;
  const started = await replayRange(base, env.ADMIN_TOKEN ?? "", { ...request, dryRun: false });
  console.log(
    `started ${started.runs.length} runs, ${started.enqueued} events queued; replays ${started.replayIds.join(", ")} (GET /api/replays/ID)`,
  );
  return 0;
});
