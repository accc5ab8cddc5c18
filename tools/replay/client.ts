/**
 * The Node-side client of `/api/replays`, shared by `npm run replay` and `npm run
 * okta:backfill`: a range the service refuses as too large (over 1000 events) is split
 * in halves until each part fits, and the parts' answers are added up; and the plan is
 * printed the same way by both tools: runs, actions by kind and target, resumes.
 */
import { z } from "zod";
import { fetchOrExplain } from "../cli/args";

export interface ReplayRequest {
  since: string;
  until: string;
  eventTypes?: string[];
  assetId?: string;
  dryRun: boolean;
}

const ReplayResult = z.object({
  replayId: z.string().nullable(),
  events: z.number(),
  runs: z.array(
    z.object({ workflowId: z.string(), eventUuid: z.string(), eventType: z.string(), assetId: z.string().nullable() }),
  ),
  alreadyRan: z.number(),
  resumes: z.array(z.object({ runId: z.string(), workflowId: z.string(), eventUuid: z.string() })),
  enqueued: z.number(),
  actions: z.array(z.object({ kind: z.string(), target: z.string(), runs: z.number(), afterWait: z.boolean() })),
});
export type ReplayResult = z.infer<typeof ReplayResult>;

/** What one or more replays did (or would do), added up; `replayIds` names the real ones. */
export type ReplayTotal = Omit<ReplayResult, "replayId"> & { replayIds: string[] };

export class ReplayRefused extends Error {}

/** The shortest part a range is split into; a millisecond holding over 1000 events cannot be replayed. */
const MIN_PART_MS = 1;

/** POSTs the replay, splitting the range while the service says it holds too many events. */
export async function replayRange(base: string, adminToken: string, request: ReplayRequest): Promise<ReplayTotal> {
  const parts = await replayParts(base, adminToken, request);
  return addUp(parts);
}

async function replayParts(base: string, adminToken: string, request: ReplayRequest): Promise<ReplayResult[]> {
  const url = new URL("/api/replays", base);
  const res = await fetchOrExplain(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  const text = await res.text();
  const [since, until] = [Date.parse(request.since), Date.parse(request.until)];
  if (res.status === 400 && text.includes("replay it in parts") && until - since > MIN_PART_MS) {
    const middle = new Date(since + Math.floor((until - since) / 2)).toISOString();
    const first = await replayParts(base, adminToken, { ...request, until: middle });
    return [...first, ...(await replayParts(base, adminToken, { ...request, since: middle }))];
  }
  if (res.status === 401) throw new ReplayRefused(`${url.origin} refused the admin token (401): check ADMIN_TOKEN`);
  if (!res.ok) throw new ReplayRefused(`${url.href} answered ${res.status}: ${text}`);
  return [ReplayResult.parse(JSON.parse(text))];
}

function addUp(parts: ReplayResult[]): ReplayTotal {
  const actions = new Map<string, ReplayResult["actions"][number]>();
  for (const action of parts.flatMap((part) => part.actions)) {
    const key = JSON.stringify([action.kind, action.target, action.afterWait]);
    const seen = actions.get(key);
    actions.set(key, seen ? { ...seen, runs: seen.runs + action.runs } : action);
  }
  return {
    replayIds: parts.flatMap((part) => (part.replayId ? [part.replayId] : [])),
    events: parts.reduce((n, part) => n + part.events, 0),
    runs: parts.flatMap((part) => part.runs),
    alreadyRan: parts.reduce((n, part) => n + part.alreadyRan, 0),
    resumes: parts.flatMap((part) => part.resumes),
    enqueued: parts.reduce((n, part) => n + part.enqueued, 0),
    actions: [...actions.values()].sort((a, b) => b.runs - a.runs || a.target.localeCompare(b.target)),
  };
}

/** At most this many runs are listed one by one; the count and the actions always cover all. */
const LISTED_RUNS = 20;

/** The plan as printed lines: `started` says whether the runs were started or only would be. */
export function describeReplay(total: ReplayTotal, started: boolean): string[] {
  const lines = [
    `${started ? "starting" : "would start"} ${total.runs.length} runs; ${total.alreadyRan} (workflow, event) pairs already ran`,
  ];
  for (const run of total.runs.slice(0, LISTED_RUNS)) {
    lines.push(`  workflow ${run.workflowId}  <- ${run.eventType} ${run.eventUuid} on ${run.assetId ?? "(no asset)"}`);
  }
  if (total.runs.length > LISTED_RUNS) lines.push(`  ... and ${total.runs.length - LISTED_RUNS} more`);
  if (total.actions.length > 0) {
    lines.push(`${started ? "they send" : "they would send"}, by kind and target:`);
    for (const action of total.actions) {
      const later = action.afterWait ? " (after a wait)" : "";
      lines.push(`  ${String(action.runs).padStart(5)} x ${action.kind.padEnd(5)} ${action.target}${later}`);
    }
  } else if (total.runs.length > 0) {
    lines.push("they send nothing (no action on their path)");
  }
  if (total.resumes.length > 0) {
    lines.push(`${started ? "may resume" : "would resume"} ${total.resumes.length} waiting runs:`);
    for (const wait of total.resumes.slice(0, LISTED_RUNS)) {
      lines.push(`  run ${wait.runId} (workflow ${wait.workflowId}) <- ${wait.eventUuid}`);
    }
  }
  return lines;
}
