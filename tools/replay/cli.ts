/**
 * `npm run replay -- --since T --until T [--types a,b] [--asset ID] [--run]`: replays
 * stored events against the enabled workflows through `/api/replays`. Without `--run`
 * it is a dry run: it lists the runs that would start and the waits that would resolve.
 * With `--run` it starts them (runs marked as replayed; a pair that ran never runs again).
 */
import { parseArgs } from "node:util";
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";

const env = { ...(await readDevVars()), ...process.env };
const { values } = parseArgs({
  options: {
    since: { type: "string" },
    until: { type: "string" },
    types: { type: "string" },
    asset: { type: "string" },
    run: { type: "boolean", default: false },
    url: { type: "string" },
  },
});
if (!values.since) {
  console.error("usage: npm run replay -- --since 2026-11-01T00:00:00Z [--until T] [--types a,b] [--asset ID] [--run]");
  process.exit(2);
}
const base = values.url ?? env.SERVICE_URL ?? localBaseUrl(env.PORT);
const body = {
  since: new Date(values.since).toISOString(),
  until: new Date(values.until ?? Date.now()).toISOString(),
  eventTypes: values.types?.split(",").map((type) => type.trim()),
  assetId: values.asset,
  dryRun: !values.run,
};
const res = await fetch(new URL("/api/replays", base), {
  method: "POST",
  headers: { Authorization: `Bearer ${env.ADMIN_TOKEN ?? ""}`, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});
const text = await res.text();
if (!res.ok) {
  console.error(`${res.status}: ${text}`);
  process.exit(1);
}
const result: {
  replayId: string | null;
  events: number;
  runs: { workflowId: string; eventUuid: string; eventType: string; assetId: string | null }[];
  alreadyRan: number;
  resumes: { runId: string; workflowId: string; eventUuid: string }[];
  enqueued: number;
} = JSON.parse(text);
console.log(`${result.events} stored events from ${body.since} to ${body.until}`);
console.log(
  `${values.run ? "starting" : "would start"} ${result.runs.length} runs (${result.alreadyRan} pairs already ran):`,
);
for (const run of result.runs) {
  console.log(`  workflow ${run.workflowId}  ← ${run.eventType} ${run.eventUuid} on ${run.assetId ?? "(no asset)"}`);
}
if (result.resumes.length > 0) {
  console.log(`${values.run ? "may resume" : "would resume"} ${result.resumes.length} waiting runs:`);
  for (const wait of result.resumes)
    console.log(`  run ${wait.runId} (workflow ${wait.workflowId}) ← ${wait.eventUuid}`);
}
if (values.run) {
  console.log(
    `replay ${result.replayId}: ${result.enqueued} events queued; its runs: GET /api/replays/${result.replayId}`,
  );
} else if (result.runs.length > 0) {
  console.log("dry run: nothing started. Add --run to start these runs.");
}
