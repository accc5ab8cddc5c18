/**
 * Cancel-on end to end: real deliveries at /hooks/okta (and /hooks/okta/<source>), the
 * real queue consumer, D1 and the assets' WaitRooms. Each test uses its own asset ids,
 * so runs never see each other.
 */
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { cancelRunsStatements, lookBackQuery } from "../src/db/cancel-runs";
import { createDb } from "../src/db/client";
import { storeDelivery } from "../src/db/events";
import { waitRoomFor } from "../src/durable/wait-rooms";
import { LogEvent } from "../src/okta/envelope";
import { normaliseEvent } from "../src/okta/normalise";
import { oktaEvent } from "../tools/local-okta/builders";
import { getPage, html, signIn } from "./dashboard-support";
import { runCron, unreachableRooms } from "./fault-support";
import { deliver, notify, runsOf, runWithStatus, stepsOf, until } from "./paused-support";
import {
  api,
  apiJson,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  deliverToSource,
  type ErrorBody,
  interceptOutbound,
  storeWithoutEnqueue,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());
/** What the `done` action (paused-support's notify) posted for this asset. */
const doneCalls = (asset: string) =>
  outbound.to("https://hooks.example.test/done").filter((call) => JSON.parse(call.body).asset === asset);

const SUBMITTED = "access.request.create";
const RESOLVED = "access.request.resolve";
const IMPORT_DONE = "system.import.complete";

// A minute ago: a wait's deadline counts from its event's published time, so the times must be recent.
const BASE_MS = Date.now() - 60_000;
const at = (seconds: number) => new Date(BASE_MS + seconds * 1000);

/**
 * An SLA-like workflow on one asset: a submitted request waits (an hour) for `waitFor`
 * and then notifies "done"; `cancelOn` ends it.
 */
function sla(asset: string, cancelOn: Record<string, unknown>, waitFor: string[] = [IMPORT_DONE]) {
  return {
    name: `sla ${asset}`,
    trigger: { eventTypes: [SUBMITTED], filter: { field: "id", op: "eq", value: asset } },
    cancelOn,
    start: "wait",
    nodes: {
      wait: { kind: "event", eventTypes: waitFor, timeoutSeconds: 3600, next: "done" },
      done: notify("done"),
    },
  };
}

async function workflow(definition: Record<string, unknown>): Promise<string> {
  return (await createWorkflow(definition)).id;
}

interface CancelledRow {
  id: string;
  status: string;
  cancelled_by: string | null;
  wait_room: string | null;
  ended_at: string | null;
  updated_at: string;
}

async function runRow(id: string): Promise<CancelledRow> {
  const row = await env.DB.prepare("select * from runs where id = ?").bind(id).first<CancelledRow>();
  if (!row) throw new Error(`no run ${id}`);
  return row;
}

/** Waits until the consumer has handled every one of these events. */
async function allConsumed(events: ReadonlyArray<{ uuid: string }>) {
  for (const event of events) await consumed(event.uuid);
}

/** Lets any straggling queue work finish before asserting that nothing changed. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("cancelling a waiting run", () => {
  it("ends it cancelled, names the event, removes its wait, and a later matching event does not resume it", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    expect((await waitRoomFor(env, null, asset).paused()).map((w) => w.runId)).toEqual([waiting.id]);

    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    const cancelled = await runWithStatus(workflowId, "cancelled");
    expect(cancelled.id).toBe(waiting.id);

    const detail = await apiJson<{ status: string; cancelledBy: string | null; error: string | null; endedAt: string }>(
      "GET",
      `/api/runs/${waiting.id}`,
    );
    expect(detail).toMatchObject({ status: "cancelled", cancelledBy: resolve?.uuid, error: null });
    expect(detail.endedAt).toBeTruthy();
    expect((await stepsOf(waiting.id)).map((s) => [s.node_id, s.status])).toEqual([["wait", "terminated"]]);
    // The wait is gone from the WaitRoom, and D1 no longer names the room.
    expect(await waitRoomFor(env, null, asset).paused()).toEqual([]);
    await until(async () => (await runRow(waiting.id)).wait_room === null, "D1 to forget the WaitRoom");

    // What would have resumed it now finds nothing.
    const [late] = await deliver({ eventType: IMPORT_DONE, assetId: asset, published: at(20) });
    await consumed(late?.uuid ?? "");
    await settle();
    expect((await runRow(waiting.id)).status).toBe("cancelled");
    expect(doneCalls(asset)).toHaveLength(0);

    // The run page says so, and links the event.
    const page = await html(getPage(`/runs/${waiting.id}`, await signIn()));
    expect(page).toContain("Cancelled by");
    expect(page).toContain(`/events/${resolve?.uuid}`);
    // And the event names the runs it cancelled, in the API and on its page.
    const ofEvent = await apiJson<{ runs: Array<{ runId: string; how: string; status: string }> }>(
      "GET",
      `/api/events/${resolve?.uuid}/runs`,
    );
    expect(ofEvent.runs).toEqual([
      expect.objectContaining({ runId: waiting.id, how: "cancelled", status: "cancelled" }),
    ]);
    const eventPage = await html(getPage(`/events/${resolve?.uuid}`, await signIn()));
    expect(eventPage).toContain("cancelled (cancel-on)");
    expect(eventPage).toContain(`/runs/${waiting.id}`);
  });

  it("cancels every waiting run of the workflow on that asset that started before the event, and none after", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(5) });
    await until(async () => (await runsOf(workflowId)).filter((r) => r.status === "waiting").length === 2, "2 waits");
    await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await until(async () => (await runsOf(workflowId)).every((r) => r.status === "cancelled"), "both cancelled");
    // A request submitted after (by published time) the resolve is not cancelled by it.
    const [later] = await deliver({ eventType: SUBMITTED, assetId: asset, published: at(15) });
    await consumed(later?.uuid ?? "");
    await until(async () => (await runsOf(workflowId)).some((r) => r.status === "waiting"), "the later run to wait");
    expect((await runsOf(workflowId)).map((r) => r.status)).toEqual(["cancelled", "cancelled", "waiting"]);
  });
});

describe("what does not cancel", () => {
  it("an event on another asset, of another type, failing the filter, or outside the category", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const filter = { field: "eventResult", op: "eq", value: "SUCCESS" };
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED], filter }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    const ignored = await deliver(
      { eventType: RESOLVED, assetId: `other-${crypto.randomUUID()}`, published: at(1) },
      { eventType: SUBMITTED, assetId: asset, published: at(2), uuid: crypto.randomUUID() },
      { eventType: RESOLVED, assetId: asset, published: at(3), result: "FAILURE" },
      { eventType: "user.lifecycle.create", assetId: asset, published: at(4) },
    );
    await allConsumed(ignored);
    await settle();
    const statuses = new Map((await runsOf(workflowId)).map((r) => [r.id, r.status]));
    expect(statuses.get(waiting.id)).toBe("waiting");
    // The filter's match cancels it.
    await deliver({ eventType: RESOLVED, assetId: asset, published: at(5), result: "SUCCESS" });
    await until(async () => (await runRow(waiting.id)).status === "cancelled", "the run to be cancelled");
  });

  it("an event of another Okta org on the same asset id", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliverToSource("acme", [buildEvent({ eventType: SUBMITTED, assetId: asset, published: at(0) })]);
    const waiting = await runWithStatus(workflowId, "waiting");
    const foreign = buildEvent({ eventType: RESOLVED, assetId: asset, published: at(5) });
    await deliverToSource("globex", [foreign]);
    await consumed(foreign.uuid);
    // Nor one of the single-org hook (source null).
    const [unnamed] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(6) });
    await consumed(unnamed?.uuid ?? "");
    await settle();
    expect((await runRow(waiting.id)).status).toBe("waiting");
    const own = buildEvent({ eventType: RESOLVED, assetId: asset, published: at(7) });
    await deliverToSource("acme", [own]);
    await until(async () => (await runRow(waiting.id)).cancelled_by === own.uuid, "acme's event to cancel it");
    expect(await waitRoomFor(env, "acme", asset).paused()).toEqual([]);
  });
});

describe("guarantees", () => {
  it("a redelivered event changes nothing", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await runWithStatus(workflowId, "cancelled");
    await until(async () => (await runRow(waiting.id)).wait_room === null, "the wait cleaned up");
    const before = await runRow(waiting.id);
    // Okta delivers it again (the hook stores it once), and the queue delivers its message again.
    await deliver({ eventType: RESOLVED, assetId: asset, published: at(10), uuid: resolve?.uuid });
    const message = await env.DB.prepare("select * from events where uuid = ?").bind(resolve?.uuid).first();
    expect(message).toBeTruthy();
    const result = await consume([
      {
        kind: "event",
        uuid: resolve?.uuid ?? "",
        inCategory: true,
        fields: {
          id: asset,
          type: "AccessRequest",
          alternateId: null,
          displayName: asset,
          eventType: RESOLVED,
          eventResult: "SUCCESS",
          eventDate: at(10).toISOString(),
          eventTimestamp: new Date().toISOString(),
          source: null,
        },
      },
    ]);
    expect(result.retryMessages).toEqual([]);
    await settle();
    expect(await runRow(waiting.id)).toEqual(before);
    expect((await runsOf(workflowId)).map((r) => r.status)).toEqual(["cancelled"]);
  });

  it("a run that already ended is untouched", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    await deliver({ eventType: IMPORT_DONE, assetId: asset, published: at(5) });
    await runWithStatus(workflowId, "completed");
    // The WaitRoom's acknowledgement clears wait_room a moment after the run ends.
    await until(async () => (await runRow(waiting.id)).wait_room === null, "the resumed wait acknowledged");
    const before = await runRow(waiting.id);
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await consumed(resolve?.uuid ?? "");
    await settle();
    expect(await runRow(waiting.id)).toEqual(before);
    expect(before.cancelled_by).toBeNull();
    expect(doneCalls(asset)).toHaveLength(1);
  });

  it("an event that would both resume and cancel a run cancels it, once", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    // The wait accepts the very event the rule cancels on.
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }, [RESOLVED, IMPORT_DONE]));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await consumed(resolve?.uuid ?? "");
    await until(async () => (await runRow(waiting.id)).wait_room === null, "the wait cleaned up");
    await settle();
    const run = await runRow(waiting.id);
    expect(run).toMatchObject({ status: "cancelled", cancelled_by: resolve?.uuid });
    expect((await stepsOf(waiting.id)).map((s) => [s.node_id, s.status, s.outcome])).toEqual([
      ["wait", "terminated", null],
    ]);
    expect(doneCalls(asset)).toHaveLength(0);
  });

  it("never both: an event a run already took at a wait does not cancel it when it comes again", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow({
      ...sla(asset, { eventTypes: [RESOLVED] }),
      nodes: {
        wait: { kind: "event", eventTypes: [RESOLVED], timeoutSeconds: 3600, next: "again" },
        again: { kind: "event", eventTypes: [IMPORT_DONE], timeoutSeconds: 3600, next: "done" },
        done: notify("done"),
      },
    });
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    // The resume wins the race this once: hide the rule from the consumer while the event is routed.
    const rule = await env.DB.prepare("select * from cancel_on_types where workflow_id = ?")
      .bind(workflowId)
      .first<{ event_type: string; version: number }>();
    await env.DB.prepare("delete from cancel_on_types where workflow_id = ?").bind(workflowId).run();
    const resolve = await storeWithoutEnqueue({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await consume([resolve]);
    await until(
      async () => (await stepsOf(waiting.id)).some((s) => s.node_id === "again" && s.status === "waiting"),
      "the run to take the event and wait again",
    );
    await env.DB.prepare("insert into cancel_on_types (event_type, workflow_id, version) values (?, ?, ?)")
      .bind(rule?.event_type, workflowId, rule?.version)
      .run();
    // Its redelivery now matches the rule, but the run already took it: it stays where it is.
    expect((await consume([resolve])).retryMessages).toEqual([]);
    await settle();
    expect(await runRow(waiting.id)).toMatchObject({ status: "waiting", cancelled_by: null });
    // A later matching event still cancels it.
    const [later] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(20) });
    await until(async () => (await runRow(waiting.id)).cancelled_by === later?.uuid, "the later event to cancel it");
  });

  it("a run whose trigger and cancelling event arrive in one delivery ends cancelled before any step", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    const [, resolve] = await deliver(
      { eventType: SUBMITTED, assetId: asset, published: at(0) },
      { eventType: RESOLVED, assetId: asset, published: at(0) },
    );
    const run = await runWithStatus(workflowId, "cancelled");
    expect(run).toMatchObject({ cancelled_by: resolve?.uuid });
    expect(await stepsOf(run.id)).toEqual([]);
  });

  it("a run whose cancelling event was delivered before its trigger (out of order) ends cancelled", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await consumed(resolve?.uuid ?? "");
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "cancelled");
    expect(run).toMatchObject({ cancelled_by: resolve?.uuid });
    expect(await waitRoomFor(env, null, asset).paused()).toEqual([]);
  });

  it("cancels a running run between steps (an action deferred for a retry), and its action is not called again", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const url = `https://${crypto.randomUUID()}.example.test/remind`;
    outbound.on(url, () => new Response("busy", { status: 503, headers: { "retry-after": "600" } }));
    const workflowId = await workflow({
      name: `deferred ${asset}`,
      trigger: { eventTypes: [SUBMITTED], filter: { field: "id", op: "eq", value: asset } },
      cancelOn: { eventTypes: [RESOLVED] },
      start: "remind",
      nodes: { remind: { kind: "action", action: { type: "http", method: "POST", url, retries: 0 } } },
    });
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const running = await until(async () => {
      const [run] = await runsOf(workflowId);
      const row =
        run &&
        (await env.DB.prepare("select * from runs where id = ?")
          .bind(run.id)
          .first<{ not_before: string | null; status: string; id: string }>());
      return row?.status === "running" && row.not_before ? row : null;
    }, "the action to be deferred");
    expect(outbound.to(url)).toHaveLength(1);
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await until(async () => (await runRow(running.id)).status === "cancelled", "the running run to be cancelled");
    expect((await runRow(running.id)).cancelled_by).toBe(resolve?.uuid);
    expect((await stepsOf(running.id)).map((s) => [s.node_id, s.status])).toEqual([["remind", "terminated"]]);
    // Past its retry time, the cron hands back nothing: the run has ended.
    await runCron(Date.now() + 20 * 60_000);
    await settle();
    expect(outbound.to(url)).toHaveLength(1);
    expect((await runRow(running.id)).status).toBe("cancelled");
  });

  it("a WaitRoom that cannot be reached: D1 holds the cancel, and the cron removes the wait later", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    const resolve = await storeWithoutEnqueue({ eventType: RESOLVED, assetId: asset, published: at(10) });
    // The event's own WaitRoom delivery fails too, so its message is retried; the cancel stays.
    const result = await consume([resolve], { WAIT_ROOMS: unreachableRooms() });
    expect(result.retryMessages).toHaveLength(1);
    const cancelled = await runRow(waiting.id);
    expect(cancelled).toMatchObject({ status: "cancelled", cancelled_by: resolve.uuid });
    expect(cancelled.wait_room).not.toBeNull();
    expect((await waitRoomFor(env, null, asset).paused()).map((w) => w.runId)).toEqual([waiting.id]);
    await runCron(Date.now() + 2 * 60_000);
    await until(async () => (await runRow(waiting.id)).wait_room === null, "the cron to clean the wait");
    expect(await waitRoomFor(env, null, asset).paused()).toEqual([]);
    // Its retry cancels nothing more.
    const before = await runRow(waiting.id);
    expect((await consume([resolve])).retryMessages).toEqual([]);
    expect(await runRow(waiting.id)).toEqual(before);
  });

  it("a backfilled (store-only) cancelling event does not cancel a run that starts after it", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    const eventId = crypto.randomUUID();
    const receivedAt = new Date();
    const backfilled = normaliseEvent(
      LogEvent.parse(oktaEvent({ eventType: RESOLVED, assetId: asset, published: at(10) })),
      eventId,
      receivedAt,
    );
    await storeDelivery(
      env.DB,
      { eventId, source: null, eventTime: null, receivedAt: receivedAt.toISOString() },
      [backfilled],
      { storeOnly: true },
    );
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    await runWithStatus(workflowId, "waiting");
  });

  it("each run keeps its version's rule, and a disabled workflow's runs are still cancelled", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const withRule = sla(asset, { eventTypes: [RESOLVED] });
    const { cancelOn: _rule, ...withoutRule } = withRule;
    // v1 has no rule; v2 adds it; v3 drops it again.
    const workflowId = await workflow(withoutRule);
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    await until(
      async () => (await runsOf(workflowId)).length === 1 && (await runsOf(workflowId))[0]?.status === "waiting",
      "v1's run",
    );
    await apiJson("PUT", `/api/workflows/${workflowId}`, withRule);
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(1) });
    await until(async () => (await runsOf(workflowId)).filter((r) => r.status === "waiting").length === 2, "v2's run");
    await apiJson("PUT", `/api/workflows/${workflowId}`, withoutRule);
    await apiJson("POST", `/api/workflows/${workflowId}/disable`);
    const [resolve] = await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await consumed(resolve?.uuid ?? "");
    await until(async () => (await runsOf(workflowId)).some((r) => r.status === "cancelled"), "v2's run cancelled");
    await settle();
    const byVersion = await env.DB.prepare(
      "select workflow_version as version, status from runs where workflow_id = ? order by workflow_version",
    )
      .bind(workflowId)
      .all();
    expect(byVersion.results).toEqual([
      { version: 1, status: "waiting" },
      { version: 2, status: "cancelled" },
    ]);
  });

  it("lists cancelled runs by status in the API", async () => {
    const asset = `req-${crypto.randomUUID()}`;
    const workflowId = await workflow(sla(asset, { eventTypes: [RESOLVED] }));
    await deliver({ eventType: SUBMITTED, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");
    await deliver({ eventType: RESOLVED, assetId: asset, published: at(10) });
    await runWithStatus(workflowId, "cancelled");
    const listed = await apiJson<{ runs: Array<{ id: string; status: string }> }>(
      "GET",
      `/api/runs?workflowId=${workflowId}&status=cancelled`,
    );
    expect(listed.runs.map((r) => r.id)).toEqual([waiting.id]);
  });
});

describe("indexed, not scanned", () => {
  /** The rows of SQLite's plan for a drizzle statement, bound as it would be. */
  async function planOf(statement: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
    const { sql, params } = statement.toSQL();
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return results.map((row) => row.detail);
  }
  const match = {
    workflowId: "w",
    version: 1,
    event: { uuid: "e", eventDate: new Date().toISOString(), source: "acme", assetId: "a" },
  };

  it("finds a workflow's active runs on the asset through runs_by_workflow_asset", async () => {
    const [cancel] = cancelRunsStatements(createDb(env.DB), match, new Date());
    const plan = await planOf(cancel);
    expect(plan.join("\n")).toMatch(/SEARCH runs USING INDEX runs_by_workflow_asset/);
  });

  it("looks back at an asset's stored events through events_by_asset_date", async () => {
    const db = createDb(env.DB);
    const query = lookBackQuery(db, { assetId: "a", source: null, types: [RESOLVED], since: "2026", except: "t" });
    expect((await planOf(query)).join("\n")).toMatch(/SEARCH events USING INDEX events_by_asset_date/);
  });
});

describe("saving a cancel-on rule", () => {
  const base = (cancelOn: unknown) => ({
    name: `invalid cancel-on ${crypto.randomUUID()}`,
    trigger: { eventTypes: [SUBMITTED] },
    cancelOn,
    start: null,
  });

  it.each([
    [{ eventTypes: [] }, "cancelOn.eventTypes: name at least one event type"],
    [
      { eventTypes: ["access.request.resolved"] },
      'cancelOn.eventTypes[0]: unknown event type "access.request.resolved"',
    ],
    [{ eventTypes: [RESOLVED, RESOLVED] }, "cancelOn.eventTypes[1]: access.request.resolve is listed more than once"],
    [
      { eventTypes: [RESOLVED], filter: { field: "actor", op: "exists" } },
      'cancelOn.filter.field: unknown Event Field "actor"',
    ],
    [{ eventTypes: [RESOLVED], asset: "wait" }, "cancelOn.asset: a cancel-on rule watches the trigger's asset"],
    [{ eventTypes: [RESOLVED], until: 5 }, "cancelOn.until: unknown key"],
    [{}, "cancelOn.eventTypes: Invalid input: expected array"],
  ])("refuses %j at its path, and stores nothing", async (cancelOn, message) => {
    const definition = base(cancelOn);
    const res = await api("POST", "/api/workflows", definition);
    const body = (await res.json()) as ErrorBody;
    expect(res.status, body.error.message).toBe(400);
    expect(body.error.message).toContain(message);
    const stored = await env.DB.prepare("select count(*) as n from workflows where name = ?")
      .bind(definition.name)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
  });

  it("suggests the nearest event type", async () => {
    const res = await api("POST", "/api/workflows", base({ eventTypes: ["access.request.resolved"] }));
    expect(((await res.json()) as ErrorBody).error.message).toContain('did you mean "access.request.resolve"?');
  });

  it("the workflow's page states the rule, escaped", async () => {
    const saved = await createWorkflow(
      base({ eventTypes: [RESOLVED], filter: { field: "displayName", op: "eq", value: "<b>x</b>" } }),
    );
    const page = await html(getPage(`/workflows/${saved.id}`, await signIn()));
    expect(page).toContain("Cancel-on: an event of Resolved");
    expect(page).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(page).not.toContain("<b>x</b>");
  });

  it("keeps a saved rule in the definition, with its default asset, and indexes it per version", async () => {
    const saved = await createWorkflow(base({ eventTypes: [RESOLVED] }));
    expect(saved.definition.cancelOn).toEqual({ eventTypes: [RESOLVED], asset: "trigger" });
    const rows = await env.DB.prepare("select event_type, version from cancel_on_types where workflow_id = ?")
      .bind(saved.id)
      .all();
    expect(rows.results).toEqual([{ event_type: RESOLVED, version: 1 }]);
  });
});
