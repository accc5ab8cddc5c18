/**
 * The crash test's judgement, pure: from what Okta sent (and which deliveries were
 * accepted), what the API shows (events, runs) and what the receiver got, the checks
 * issue 7 asks for. No I/O here, so the rules read in one place.
 */

/** One request the action receiver got. */
export interface ActionCall {
  path: string;
  /** The Idempotency-Key header; null when the call had none. */
  key: string | null;
  at: number;
}

/** One scenario per asset: what starts its run and how that run should end. */
export interface AssetPlan {
  assetId: string;
  /**
   * "resume": action /first, wait for the awaited event, action /second.
   * "timeout": wait for an event that never comes, then on timeout action /page.
   */
  kind: "resume" | "timeout";
  triggerAccepted: boolean;
  /** For "resume": whether the awaited event was accepted (Okta got a 200). */
  awaitedAccepted: boolean;
}

export interface RunView {
  id: string;
  assetId: string | null;
  status: string;
}

export interface Check {
  name: string;
  ok: boolean;
  /** A failed "warn" check is printed but does not fail the test. */
  severity: "fail" | "warn";
  /** A count or summary line. */
  summary: string;
  /** Up to a few examples of what went wrong. */
  examples: string[];
}

const ENDED = new Set(["completed", "failed", "timed_out", "terminated", "cancelled"]);
const EXAMPLES = 8;

/** The run statuses a plan's run may end in, and whether "waiting" is a legitimate end. */
function expectedEnd(plan: AssetPlan): { statuses: string[]; actions: string[] } {
  if (plan.kind === "timeout") return { statuses: ["completed", "timed_out"], actions: ["page"] };
  if (plan.awaitedAccepted) return { statuses: ["completed"], actions: ["first", "second"] };
  // The awaited event never reached the service: the run rightly still waits for it.
  return { statuses: ["waiting"], actions: ["first"] };
}

/** Whether every run has reached the end its events decide (the test's wait condition). */
export function allAtTheirEnd(plans: readonly AssetPlan[], runs: readonly RunView[]): boolean {
  const byAsset = new Map(runs.map((r) => [r.assetId, r]));
  return plans
    .filter((p) => p.triggerAccepted)
    .every((p) => {
      const run = byAsset.get(p.assetId);
      return run !== undefined && expectedEnd(p).statuses.includes(run.status);
    });
}

export function judge(input: {
  acceptedEventUuids: readonly string[];
  storedEventUuids: readonly string[];
  plans: readonly AssetPlan[];
  runs: readonly RunView[];
  calls: readonly ActionCall[];
  /** Fail, not warn, when an action is repeated under the key it already used. */
  strictRepeats: boolean;
}): Check[] {
  const checks: Check[] = [];

  // Every accepted event is stored exactly once.
  const stored = countBy(input.storedEventUuids, (u) => u);
  const missing = input.acceptedEventUuids.filter((u) => !stored.has(u));
  const duplicated = [...stored].filter(([, n]) => n > 1).map(([u, n]) => `${u} x${n}`);
  checks.push({
    name: "every accepted event stored once",
    severity: "fail",
    ok: missing.length === 0 && duplicated.length === 0,
    summary: `${input.acceptedEventUuids.length} accepted, ${input.storedEventUuids.length} stored, ${missing.length} missing, ${duplicated.length} stored twice or more`,
    examples: [...missing.map((u) => `missing ${u}`), ...duplicated.map((d) => `duplicated ${d}`)].slice(0, EXAMPLES),
  });

  // One run per accepted trigger, at the end its events decide.
  const runsByAsset = groupBy(input.runs, (r) => r.assetId ?? "(none)");
  const wrongCount: string[] = [];
  const stuck: string[] = [];
  const wrongEnd: string[] = [];
  const statusCounts = countBy(input.runs, (r) => r.status);
  for (const plan of input.plans.filter((p) => p.triggerAccepted)) {
    const runs = runsByAsset.get(plan.assetId) ?? [];
    if (runs.length !== 1) wrongCount.push(`${plan.assetId}: ${runs.length} runs`);
    const expected = expectedEnd(plan);
    for (const run of runs) {
      if (expected.statuses.includes(run.status)) continue;
      const line = `${plan.kind} run ${run.id} on ${plan.assetId}: ${run.status}, expected ${expected.statuses.join(" or ")}`;
      if (ENDED.has(run.status)) wrongEnd.push(line);
      else stuck.push(line);
    }
  }
  checks.push({
    name: "one run per accepted trigger",
    severity: "fail",
    ok: wrongCount.length === 0,
    summary: `${input.plans.filter((p) => p.triggerAccepted).length} accepted triggers, ${input.runs.length} runs, ${wrongCount.length} assets with other than one run`,
    examples: wrongCount.slice(0, EXAMPLES),
  });
  checks.push({
    name: "no run stuck in running or waiting",
    severity: "fail",
    ok: stuck.length === 0,
    summary: `${stuck.length} stuck; runs by status: ${JSON.stringify(Object.fromEntries(statusCounts))}`,
    examples: stuck.slice(0, EXAMPLES),
  });
  checks.push({
    name: "every run ended as its events decide",
    severity: "fail",
    ok: wrongEnd.length === 0,
    summary: `${wrongEnd.length} ended otherwise`,
    examples: wrongEnd.slice(0, EXAMPLES),
  });

  // Actions: each (asset, node) called under one Idempotency-Key at most; a run that
  // ended its way made its actions; repeats under the same key are counted (a receiver drops them).
  const callsByPath = groupBy(input.calls, (c) => c.path);
  const twoKeys: string[] = [];
  const noKey: string[] = [];
  let repeats = 0;
  for (const [path, calls] of callsByPath) {
    const keys = new Set(calls.map((c) => c.key));
    if (keys.has(null)) noKey.push(`${path}: ${calls.filter((c) => c.key === null).length} calls without a key`);
    const named = [...keys].filter((k): k is string => k !== null);
    if (named.length > 1) twoKeys.push(`${path}: ${named.length} keys (${named.join(", ")})`);
    repeats += calls.length - keys.size;
  }
  const missingActions: string[] = [];
  const unexpectedActions: string[] = [];
  for (const plan of input.plans) {
    const run = (runsByAsset.get(plan.assetId) ?? [])[0];
    const expected = plan.triggerAccepted && run ? expectedEnd(plan).actions : [];
    const ended = run !== undefined && expectedEnd(plan).statuses.includes(run.status);
    for (const node of ["first", "second", "page"]) {
      const made = callsByPath.has(`/${node}/${plan.assetId}`);
      if (expected.includes(node) && ended && !made) missingActions.push(`${plan.assetId}: no /${node} call`);
      if (!expected.includes(node) && made) unexpectedActions.push(`${plan.assetId}: /${node} called`);
    }
  }
  checks.push({
    name: "no action executed under two Idempotency-Keys",
    severity: "fail",
    ok: twoKeys.length === 0 && noKey.length === 0,
    summary: `${input.calls.length} calls to ${callsByPath.size} (asset, node) pairs; ${twoKeys.length} pairs with two or more keys, ${noKey.length} with calls lacking a key`,
    examples: [...twoKeys, ...noKey].slice(0, EXAMPLES),
  });
  checks.push({
    name: "each action executed at most once per Idempotency-Key",
    // A crash between an action's request and its record repeats the request under the
    // same key, which is the documented at-least-once contract; --strict-repeats fails on it.
    severity: input.strictRepeats ? "fail" : "warn",
    ok: repeats === 0,
    summary: `${repeats} repeated calls under a key already used (at-least-once delivery: a receiver drops them)`,
    examples: [...callsByPath]
      .filter(([, calls]) => calls.length > new Set(calls.map((c) => c.key)).size)
      .map(([path, calls]) => `${path}: ${calls.length} calls`)
      .slice(0, EXAMPLES),
  });
  checks.push({
    name: "every ended run made exactly its actions",
    severity: "fail",
    ok: missingActions.length === 0 && unexpectedActions.length === 0,
    summary: `${missingActions.length} missing, ${unexpectedActions.length} unexpected`,
    examples: [...missingActions, ...unexpectedActions].slice(0, EXAMPLES),
  });
  return checks;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
