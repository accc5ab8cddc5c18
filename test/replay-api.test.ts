/**
 * `/api/replays` end to end: events stored before a workflow existed, a dry run that
 * changes nothing, a real run whose runs the real queue consumer starts and which are
 * marked as replayed, and replays repeated (one after another and at once) that never
 * start a second run for a (workflow, event) pair.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { planReplay, type ReplayPlan } from "../src/replay/plan";
import {
  api,
  apiJson,
  consumed,
  createWorkflow,
  deliverEvent,
  newAssetId,
  onAsset,
  runOf,
  until,
} from "./workflow-support";

interface ReplayResult {
  replayId: string | null;
  dryRun: boolean;
  events: number;
  runs: { workflowId: string; eventUuid: string; eventType: string }[];
  alreadyRan: number;
  resumes: ReplayPlan["resumes"];
  enqueued: number;
}

const RANGE = { since: "2026-01-01T00:00:00Z", until: "2099-01-01T00:00:00Z" };
const countRuns = async (workflowId: string) =>
  (await env.DB.prepare("select count(*) as n from runs where workflow_id = ?").bind(workflowId).first<{ n: number }>())
    ?.n ?? 0;

/** Two token events and an import on a fresh asset, all stored and consumed before any workflow wants them. */
async function storedBeforeWorkflow() {
  const assetId = newAssetId();
  const target = [{ id: assetId, type: "Token", alternateId: "unknown", displayName: "ci" }];
  const tokens = [
    await deliverEvent({ eventType: "system.api_token.create", target }),
    await deliverEvent({ eventType: "system.api_token.create", target }),
  ];
  const other = await deliverEvent({ eventType: "system.api_token.revoke", target });
  for (const event of [...tokens, other]) await consumed(event.uuid);
  const workflow = await createWorkflow({
    name: `replay ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: null,
    nodes: {},
  });
  return { assetId, target, tokens, workflow };
}

describe("replay", () => {
  it("dry run lists the runs that would start and changes nothing", async () => {
    const { assetId, tokens, workflow } = await storedBeforeWorkflow();
    const result = await apiJson<ReplayResult>("POST", "/api/replays", { ...RANGE, assetId });
    expect(result).toMatchObject({ dryRun: true, replayId: null, events: 3, alreadyRan: 0, enqueued: 0 });
    expect(result.runs.map((run) => run.eventUuid).sort()).toEqual(tokens.map((event) => event.uuid).sort());
    expect(result.runs.every((run) => run.workflowId === workflow.id)).toBe(true);
    expect(await countRuns(workflow.id)).toBe(0);
    const marked = await env.DB.prepare("select count(*) as n from replayed_runs where workflow_id = ?")
      .bind(workflow.id)
      .first<{ n: number }>();
    expect(marked?.n).toBe(0);
  });

  it("real run starts the runs, marked as replayed, and a second replay starts none", async () => {
    const { assetId, tokens, workflow } = await storedBeforeWorkflow();
    const replay = await apiJson<ReplayResult>("POST", "/api/replays", { ...RANGE, assetId, dryRun: false }, 202);
    expect(replay).toMatchObject({ dryRun: false, enqueued: 2, alreadyRan: 0 });
    expect(replay.runs).toHaveLength(2);
    for (const event of tokens) expect((await runOf(workflow.id, event.uuid)).status).toBe("completed");
    const marked = await apiJson<{ runs: { eventUuid: string; runId: string | null; status: string | null }[] }>(
      "GET",
      `/api/replays/${replay.replayId}`,
    );
    expect(marked.runs.map((run) => run.eventUuid).sort()).toEqual(tokens.map((event) => event.uuid).sort());
    expect(marked.runs.every((run) => run.runId !== null && run.status === "completed")).toBe(true);

    const again = await apiJson<ReplayResult>("POST", "/api/replays", { ...RANGE, assetId, dryRun: false }, 202);
    expect(again).toMatchObject({ runs: [], alreadyRan: 2, enqueued: 0 });
    expect(await countRuns(workflow.id)).toBe(2);
  });

  it("leaves alone an event whose run started live", async () => {
    const { assetId, target, workflow } = await storedBeforeWorkflow();
    const live = await deliverEvent({ eventType: "system.api_token.create", target });
    await runOf(workflow.id, live.uuid);
    const result = await apiJson<ReplayResult>("POST", "/api/replays", { ...RANGE, assetId });
    expect(result.alreadyRan).toBe(1);
    expect(result.runs.map((run) => run.eventUuid)).not.toContain(live.uuid);
    expect(result.runs).toHaveLength(2);
  });

  it("two real replays at once start each (workflow, event) run once", async () => {
    const { assetId, tokens, workflow } = await storedBeforeWorkflow();
    const body = { ...RANGE, assetId, eventTypes: ["system.api_token.create"], dryRun: false };
    const [a, b] = await Promise.all([
      apiJson<ReplayResult>("POST", "/api/replays", body, 202),
      apiJson<ReplayResult>("POST", "/api/replays", body, 202),
    ]);
    expect(a.enqueued + b.enqueued).toBeGreaterThanOrEqual(2);
    for (const event of tokens) await runOf(workflow.id, event.uuid);
    // Both replays' messages have been handled once the queue is idle for the pairs.
    await until(async () => (await countRuns(workflow.id)) === 2 && true, "two runs");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await countRuns(workflow.id)).toBe(2);
  });

  it("refuses a bad request whole, in the common error shape", async () => {
    const backwards = await api("POST", "/api/replays", { since: RANGE.until, until: RANGE.since });
    expect(backwards.status).toBe(400);
    expect(await backwards.json()).toEqual({
      error: { code: "bad_request", message: expect.stringContaining("since must be before until") },
    });
    const unknown = await api("POST", "/api/replays", { ...RANGE, eventTypes: ["user.session.start"] });
    expect(unknown.status).toBe(400);
    expect((await api("POST", "/api/replays", RANGE, null)).status).toBe(401);
    expect((await api("GET", "/api/replays/nope")).status).toBe(404);
  });
});

describe("planReplay", () => {
  const fields = (eventType: string, id: string, eventDate: string) => ({
    id,
    type: "AppInstance",
    alternateId: null,
    displayName: null,
    eventType,
    eventResult: "SUCCESS",
    eventDate,
    eventTimestamp: eventDate,
  });
  const trigger = { category: "okta.system" as const, eventTypes: ["system.import.start" as const] };
  const start = { uuid: "e1", fields: fields("system.import.start", "0oa1", "2026-11-01T10:00:00.000Z") };

  it("lists the waiting runs that a replayed event would resume, and only those", () => {
    const waiting = (after: string, eventTypes: string[]) => ({
      id: `run-${after}-${eventTypes.join()}`,
      workflowId: "w2",
      waitingFor: {
        nodeId: "n",
        assetId: "0oa1",
        eventTypes,
        filter: null,
        until: null,
        after: { uuid: "x", eventDate: after },
      },
    });
    const plan = planReplay(
      [start],
      [{ workflowId: "w1", version: 1, eventType: "system.import.start", definition: { trigger } }],
      [],
      [
        waiting("2026-11-01T09:00:00.000Z", ["system.import.start"]),
        waiting("2026-11-01T11:00:00.000Z", ["system.import.start"]),
        waiting("2026-11-01T09:00:00.000Z", ["system.import.complete"]),
      ],
    );
    expect(plan.start).toEqual([
      { workflowId: "w1", version: 1, eventUuid: "e1", eventType: "system.import.start", assetId: "0oa1" },
    ]);
    expect(plan.resumes).toEqual([
      { runId: "run-2026-11-01T09:00:00.000Z-system.import.start", workflowId: "w2", eventUuid: "e1" },
    ]);
  });

  it("skips a pair that has a run, and then sends nothing that could resume a wait", () => {
    const plan = planReplay(
      [start],
      [{ workflowId: "w1", version: 1, eventType: "system.import.start", definition: { trigger } }],
      [{ workflowId: "w1", triggerEventUuid: "e1" }],
      [],
    );
    expect(plan).toEqual({ start: [], alreadyRan: [{ workflowId: "w1", eventUuid: "e1" }], resumes: [] });
  });
});
