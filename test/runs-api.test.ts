/**
 * The runs API as an admin uses it: listing with filters and cursor pagination, one
 * run with its path and trigger Event Fields, terminating a running or waiting run;
 * and the OpenAPI document covering every /api route.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api as apiApp } from "../src/routes/api";
import {
  api,
  apiJson,
  createWorkflow,
  deliverEvent,
  type ErrorBody,
  gate,
  getRun,
  interceptOutbound,
  newAssetId,
  onAsset,
  post,
  type RunView,
  runOf,
  until,
  type WorkflowView,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

interface RunPage {
  runs: RunView[];
  nextCursor: string | null;
}

const listRuns = (query: string) => apiJson<RunPage>("GET", `/api/runs?${query}`);

describe("GET /api/runs", () => {
  // One asset, two workflows: "ok" records every event as a completed run, "failing" fails on each.
  const assetId = newAssetId();
  const otherAsset = newAssetId();
  let ok: WorkflowView;
  let failing: WorkflowView;
  /** The ok workflow's runs on `assetId`, oldest first. */
  const okRuns: RunView[] = [];
  let failedRun: RunView;
  let otherAssetRun: RunView;

  beforeAll(async () => {
    const failBase = `https://${crypto.randomUUID()}.example.test`;
    outbound.on(failBase, () => new Response("injected refusal", { status: 422 }));
    ok = await createWorkflow({
      name: "runs api ok",
      trigger: { eventTypes: [], filter: { field: "id", op: "in", values: [assetId, otherAsset] } },
      start: null,
    });
    failing = await createWorkflow({
      name: "runs api failing",
      trigger: { eventTypes: ["system.import.roadblock"], filter: onAsset(assetId) },
      start: "call",
      nodes: { call: post(failBase) },
    });
    // One at a time, so each run starts after the previous one.
    for (let i = 0; i < 5; i++) {
      const event = await deliverEvent({ eventType: "system.import.start", assetId });
      okRuns.push(await runOf(ok.id, event.uuid));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const roadblock = await deliverEvent({ eventType: "system.import.roadblock", assetId });
    failedRun = await runOf(failing.id, roadblock.uuid);
    await runOf(ok.id, roadblock.uuid);
    otherAssetRun = await runOf(
      ok.id,
      (await deliverEvent({ eventType: "system.import.start", assetId: otherAsset })).uuid,
    );
  }, 60_000);

  it("filters by workflow, newest first", async () => {
    const page = await listRuns(`workflowId=${ok.id}`);
    expect(page.runs.every((run) => run.workflowId === ok.id)).toBe(true);
    expect(page.runs).toHaveLength(7);
    expect(page.runs[0]?.id).toBe(otherAssetRun.id);
    const starts = page.runs.map((run) => run.startedAt);
    expect(starts).toEqual([...starts].sort().reverse());
    expect(page.nextCursor).toBeNull();
  });

  it("filters by status", async () => {
    const failed = await listRuns(`workflowId=${failing.id}&status=failed`);
    expect(failed.runs.map((run) => run.id)).toEqual([failedRun.id]);
    expect(failed.runs[0]?.error).toContain("HTTP 422");
    expect((await listRuns(`workflowId=${failing.id}&status=completed`)).runs).toEqual([]);
    expect((await listRuns(`workflowId=${ok.id}&status=completed`)).runs).toHaveLength(7);
  });

  it("filters by asset id", async () => {
    const mine = await listRuns(`id=${encodeURIComponent(assetId)}`);
    expect(mine.runs).toHaveLength(7);
    expect(mine.runs.every((run) => run.assetId === assetId)).toBe(true);
    expect((await listRuns(`id=${otherAsset}`)).runs.map((run) => run.id)).toEqual([otherAssetRun.id]);
  });

  it("filters by start time, since and until inclusive", async () => {
    const [, second, third, fourth] = okRuns;
    if (!second || !third || !fourth) throw new Error("seeding failed");
    const between = await listRuns(
      `workflowId=${ok.id}&id=${assetId}&since=${second.startedAt}&until=${fourth.startedAt}`,
    );
    expect(between.runs.map((run) => run.id)).toEqual([fourth.id, third.id, second.id]);
    const upTo = await listRuns(`workflowId=${ok.id}&until=${second.startedAt}`);
    expect(upTo.runs.map((run) => run.id)).toEqual([second.id, okRuns[0]?.id]);
  });

  it("pages with a cursor through every run once, in order", async () => {
    const all = (await listRuns(`workflowId=${ok.id}`)).runs.map((run) => run.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: RunPage = await listRuns(`workflowId=${ok.id}&limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.runs.length).toBeLessThanOrEqual(3);
      seen.push(...page.runs.map((run) => run.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
  });

  it.each([
    ["an unknown status", "status=paused"],
    ["a cursor it did not issue", "cursor=not-a-cursor"],
    ["a limit over 200", "limit=201"],
    ["a date that is not ISO 8601", "since=yesterday"],
  ])("answers 400 in the error shape for %s", async (_, query) => {
    const res = await api("GET", `/api/runs?${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "bad_request", message: expect.any(String) } });
  });
});

describe("GET /api/runs/:id", () => {
  it("shows the steps in path order and the trigger's Event Fields", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const workflow = await createWorkflow({
      name: "detail",
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      start: "zeta",
      nodes: {
        zeta: post(`${base}/zeta`, "alpha"),
        alpha: { kind: "condition", when: { field: "type", op: "eq", value: "Token" }, true: "mid", false: null },
        mid: post(`${base}/mid`),
      },
    });
    const published = "2026-11-20T10:00:00.000Z";
    const event = await deliverEvent({
      eventType: "system.api_token.create",
      published,
      target: [{ id: assetId, type: "Token", alternateId: "unknown", displayName: "ci-deploy-token" }],
      result: "Success",
    });
    const run = await runOf(workflow.id, event.uuid);
    expect(run).toMatchObject({
      workflowId: workflow.id,
      workflowVersion: 1,
      triggerEventUuid: event.uuid,
      assetId,
      status: "completed",
      waitingFor: null,
      error: null,
    });
    expect(run).not.toHaveProperty("leaseUntil");
    expect(run.trigger).toEqual({
      id: assetId,
      type: "Token",
      alternateId: "unknown",
      displayName: "ci-deploy-token",
      eventType: "system.api_token.create",
      eventResult: "SUCCESS",
      eventDate: published,
      eventTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      // Delivered to the single-org /hooks/okta.
      source: null,
    });
    expect(run.steps.map((s) => [s.seq, s.nodeId, s.kind, s.outcome])).toEqual([
      [1, "zeta", "action", "next"],
      [2, "alpha", "condition", "true"],
      [3, "mid", "action", "next"],
    ]);
    for (const step of run.steps) {
      expect(step).toMatchObject({ status: "succeeded", error: null, startedAt: expect.any(String) });
      expect(step.endedAt).not.toBeNull();
    }
  });

  it("answers 404 in the error shape for an unknown run", async () => {
    const res = await api("GET", `/api/runs/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });
});

describe("POST /api/runs/:id/terminate", () => {
  it("terminates a run blocked in an action; it goes no further; a second terminate is 409", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const slow = gate();
    outbound.on(`${base}/first`, async () => {
      await slow.opened;
      return new Response("ok");
    });
    const workflow = await createWorkflow({
      name: "terminate running",
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      start: "first",
      nodes: { first: post(`${base}/first`, "second"), second: post(`${base}/second`) },
    });
    const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
    const running = await runOf(workflow.id, event.uuid, ["running"]);
    await until(async () => outbound.to(`${base}/first`).length > 0, "the first action");

    const terminated = await apiJson<RunView>("POST", `/api/runs/${running.id}/terminate`);
    expect(terminated).toMatchObject({ id: running.id, status: "terminated", endedAt: expect.any(String) });
    expect(terminated.error).toContain("terminated");

    slow.open();
    await until(async () => (await getRun(running.id)).steps[0]?.endedAt, "the first step to end");
    const after = await getRun(running.id);
    expect(after.status).toBe("terminated");
    expect(after.steps.map((s) => s.nodeId)).toEqual(["first"]);
    expect(outbound.to(`${base}/second`)).toHaveLength(0);

    const again = await api("POST", `/api/runs/${running.id}/terminate`);
    expect(again.status).toBe(409);
    expect(await again.json<ErrorBody>()).toEqual({
      error: { code: "conflict", message: expect.stringContaining("terminated") },
    });
  });

  it("terminates a run waiting at an event node; the awaited event no longer resumes it", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const workflow = await createWorkflow({
      name: "terminate waiting",
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      start: "wait",
      nodes: {
        wait: { kind: "event", eventTypes: ["system.api_token.revoke"], timeoutSeconds: 3600, next: "after" },
        after: post(`${base}/after`),
      },
    });
    const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
    const waiting = await runOf(workflow.id, event.uuid, ["waiting"]);
    expect(waiting.waitingFor).toMatchObject({
      nodeId: "wait",
      assetId,
      eventTypes: ["system.api_token.revoke"],
      until: expect.any(String),
    });

    const terminated = await apiJson<RunView>("POST", `/api/runs/${waiting.id}/terminate`);
    expect(terminated).toMatchObject({ status: "terminated", waitingFor: null });

    const revoke = await deliverEvent({ eventType: "system.api_token.revoke", assetId });
    await until(async () => {
      const row = await apiJson<{ consumedAt: string | null }>("GET", `/api/events/${revoke.uuid}`);
      return row.consumedAt;
    }, "the revoke event to be consumed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await getRun(waiting.id)).status).toBe("terminated");
    expect(outbound.to(`${base}/after`)).toHaveLength(0);
    expect((await api("POST", `/api/runs/${waiting.id}/terminate`)).status).toBe(409);
  });

  it("a completed run cannot be terminated (409); an unknown run is 404", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({
      name: "terminate ended",
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      start: null,
    });
    const run = await runOf(workflow.id, (await deliverEvent({ eventType: "system.api_token.create", assetId })).uuid);
    const res = await api("POST", `/api/runs/${run.id}/terminate`);
    expect(res.status).toBe(409);
    expect((await res.json<ErrorBody>()).error.message).toContain("completed");
    expect((await getRun(run.id)).status).toBe("completed");

    const unknown = await api("POST", `/api/runs/${crypto.randomUUID()}/terminate`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json<ErrorBody>()).error.code).toBe("not_found");
  });

  it("requires the bearer token", async () => {
    for (const [method, path] of [
      ["GET", "/api/runs"],
      ["GET", `/api/runs/${crypto.randomUUID()}`],
      ["POST", `/api/runs/${crypto.randomUUID()}/terminate`],
    ] as const) {
      const res = await api(method, path, undefined, null);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect((await res.json<ErrorBody>()).error.code).toBe("unauthorized");
    }
  });
});

describe("GET /api/openapi.json", () => {
  /** The /api routes the workflow and runs tests exercise. */
  const EXERCISED = [
    "get /workflows",
    "post /workflows",
    "get /workflows/{id}",
    "put /workflows/{id}",
    "delete /workflows/{id}",
    "get /workflows/{id}/versions/{version}",
    "post /workflows/{id}/enable",
    "post /workflows/{id}/disable",
    "get /runs",
    "get /runs/{id}",
    "post /runs/{id}/terminate",
    "get /events",
    "get /events/{uuid}",
    "get /event-types",
  ];

  async function documented(): Promise<string[]> {
    const res = await api("GET", "/api/openapi.json", undefined, null);
    expect(res.status).toBe(200);
    const doc = await res.json<{ servers?: Array<{ url: string }>; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.servers?.[0]?.url).toBe("/api");
    return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
  }

  it("documents every route the tests exercise", async () => {
    expect(await documented()).toEqual(expect.arrayContaining(EXERCISED));
  });

  it("documents every route the /api app serves, and nothing it does not", async () => {
    // Hono's route table, with :param written as OpenAPI's {param}; middleware (method ALL) and the document itself left out.
    const served = new Set(
      apiApp.routes
        .filter((route) => route.method !== "ALL" && route.path !== "/openapi.json")
        .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    expect(new Set(await documented())).toEqual(served);
  });
});
