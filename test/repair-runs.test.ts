/**
 * Every run reaches its end, inside D1: a deferred action (Retry-After) that nothing may
 * run early, a deferral whose message is lost, a consumer that dies mid-action, and
 * terminate racing a pause. Real hook, queue, D1 and WaitRoom; outbound HTTP intercepted.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { waitRoomFor, waitRoomName } from "../src/durable/wait-rooms";
import { terminate } from "../src/engine/terminate";
import { runCron, runRow } from "./fault-support";
import { deliver, notify, runWithStatus } from "./paused-support";
import {
  apiJson,
  consume,
  createWorkflow,
  deliverEvent,
  getRun,
  interceptOutbound,
  newAssetId,
  onAsset,
  runIdsFor,
  until,
} from "./workflow-support";

let outbound: ReturnType<typeof interceptOutbound>;
beforeAll(() => {
  outbound = interceptOutbound();
});

const MINUTE = 60_000;
const CREATE = "system.api_token.create";
const REVOKE = "system.api_token.revoke";
const newEndpoint = () => `https://${crypto.randomUUID()}.example.test`;

/** A one-action workflow on a fresh asset; returns its id, the endpoint and a trigger. */
async function oneAction(base: string) {
  const assetId = newAssetId();
  const workflow = await createWorkflow({
    name: `repair ${assetId}`,
    trigger: { eventTypes: [CREATE], filter: onAsset(assetId) },
    start: "call",
    // No retries inside the action: a failure defers the run at once.
    nodes: { call: { kind: "action", action: { type: "http", method: "POST", url: base, retries: 0 } } },
  });
  return { workflowId: workflow.id, trigger: () => deliverEvent({ eventType: CREATE, assetId }) };
}

async function runIdOf(workflowId: string, uuid: string): Promise<string> {
  return until(async () => (await runIdsFor(workflowId, uuid))[0], "the run to start");
}

/** Waits until the run's action has been deferred and its consumer let go of it. */
const deferredRow = (runId: string) =>
  until(async () => {
    const row = await runRow(runId);
    return row?.not_before && row.lease_until === null ? row : null;
  }, "the action to be deferred");

const setRun = (runId: string, column: "not_before" | "repair_after" | "lease_until", at: number | null) =>
  env.DB.prepare(`update runs set ${column} = ? where id = ?`)
    .bind(at === null ? null : new Date(at).toISOString(), runId)
    .run();

describe("a deferred action", () => {
  it("Retry-After: 3600 is honoured: no cron pass and no early message runs it, none uses an attempt", async () => {
    const base = newEndpoint();
    let calls = 0;
    outbound.on(base, () => {
      calls += 1;
      return calls === 1
        ? new Response("slow down", { status: 429, headers: { "retry-after": "3600" } })
        : new Response("ok", { status: 200 });
    });
    const { workflowId, trigger } = await oneAction(base);
    const runId = await runIdOf(workflowId, (await trigger()).uuid);
    const deferred = await deferredRow(runId);
    expect(Date.parse(deferred.not_before ?? "")).toBeGreaterThan(Date.now() + 3500_000);

    // The cron, 16 and 45 minutes on, and a run message arriving early: none executes the action.
    await runCron(Date.now() + 16 * MINUTE);
    await runCron(Date.now() + 45 * MINUTE);
    await consume([{ kind: "run", runId }]);
    expect(outbound.to(base)).toHaveLength(1);
    expect((await getRun(runId)).steps[0]).toMatchObject({ status: "running", attempts: 1 });

    // The hour passes: the next delivery of its message executes it, as its second attempt.
    await setRun(runId, "not_before", Date.now() - 1000);
    await consume([{ kind: "run", runId }]);
    const run = await getRun(runId);
    expect(run.status).toBe("completed");
    expect(run.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(outbound.to(base)).toHaveLength(2);
  });

  it("its delayed message lost: the cron hands the run back once it is due, and it runs once", async () => {
    const base = newEndpoint();
    let calls = 0;
    outbound.on(base, () => {
      calls += 1;
      return new Response(calls === 1 ? "down" : "ok", { status: calls === 1 ? 503 : 200 });
    });
    const { workflowId, trigger } = await oneAction(base);
    const runId = await runIdOf(workflowId, (await trigger()).uuid);
    const deferred = await deferredRow(runId);
    // Not due yet: the cron leaves it alone.
    await runCron(Date.now() + 2 * MINUTE);
    expect(outbound.to(base)).toHaveLength(1);
    // The delay is over and its message never came: due for repair.
    await setRun(runId, "not_before", Date.now() - MINUTE);
    await runCron(Date.parse(deferred.repair_after ?? "") + MINUTE);
    const run = await until(async () => {
      const current = await getRun(runId);
      return current.status === "completed" ? current : null;
    }, "the run to complete");
    expect(run.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    const keys = outbound.to(base).map((call) => call.headers["idempotency-key"]);
    expect(new Set(keys)).toEqual(new Set([`${runId}:call`]));
  });
});

describe("a consumer that dies", () => {
  it("after calling an action but before recording it: the cron repeats the call with the same Idempotency-Key, once", async () => {
    const base = newEndpoint();
    const { workflowId, trigger } = await oneAction(base);
    const runId = await runIdOf(workflowId, (await trigger()).uuid);
    await until(async () => (await getRun(runId)).status === "completed", "the run to complete");
    // Rewind D1 to the moment between the call and its record, with the dead consumer's lease run out.
    await env.DB.batch([
      env.DB.prepare(
        "update runs set status = 'running', ended_at = null, lease_until = null, repair_after = ? where id = ?",
      ).bind(new Date(Date.now() - MINUTE).toISOString(), runId),
      env.DB.prepare("update run_steps set status = 'running', ended_at = null where run_id = ?").bind(runId),
    ]);
    await runCron(Date.now());
    await until(async () => (await getRun(runId)).status === "completed", "the run to complete again");
    const calls = outbound.to(base);
    expect(calls).toHaveLength(2);
    expect(calls.map((call) => call.headers["idempotency-key"])).toEqual([`${runId}:call`, `${runId}:call`]);
    // And the cron has nothing more to do for it.
    expect((await runRow(runId))?.repair_after).toBeNull();
  });
});

describe("terminate racing a pause", () => {
  async function pausedRun() {
    const asset = newAssetId();
    const workflow = await createWorkflow({
      name: `terminate ${asset}`,
      trigger: { eventTypes: [CREATE], filter: onAsset(asset) },
      start: "wait",
      nodes: { wait: { kind: "event", eventTypes: [REVOKE], next: "after" }, after: notify("after") },
    });
    await deliver({ eventType: CREATE, assetId: asset });
    const run = await runWithStatus(workflow.id, "waiting");
    return { asset, runId: run.id };
  }

  it("a wait registered after the terminate (in flight at the time) is refused by the WaitRoom", async () => {
    const { asset, runId } = await pausedRun();
    const stub = waitRoomFor(env, null, asset);
    const [registered] = await stub.paused();
    await apiJson("POST", `/api/runs/${runId}/terminate`);
    expect(await stub.paused()).toEqual([]);
    const late = await stub.wait({
      runId,
      nodeId: "wait",
      workflowId: registered?.workflowId ?? "",
      assetId: asset,
      eventTypes: [REVOKE],
      filter: null,
      after: { uuid: crypto.randomUUID(), eventDate: new Date().toISOString() },
      deadline: null,
    });
    expect(late).toEqual({ state: "resolved", resolution: { kind: "cancelled" } });
    expect(await stub.paused()).toEqual([]);
  });

  it("a WaitRoom cancel that fails is retried by the cron until the wait is gone", async () => {
    const { asset, runId } = await pausedRun();
    const unreachable = {
      idFromName: (name: string) => env.WAIT_ROOMS.idFromName(name),
      get: () => ({
        cancel: async () => {
          throw new Error("Durable Object unreachable (injected)");
        },
      }),
    } as unknown as Env["WAIT_ROOMS"];
    await terminate(createDb(env.DB), { ...env, WAIT_ROOMS: unreachable }, { runId }, new Date());
    expect(await runRow(runId)).toMatchObject({ status: "terminated", wait_room: waitRoomName(null, asset) });
    expect(await waitRoomFor(env, null, asset).paused()).toHaveLength(1);

    await runCron(Date.now() + 2 * MINUTE);
    expect(await waitRoomFor(env, null, asset).paused()).toEqual([]);
    expect(await runRow(runId)).toMatchObject({ status: "terminated", wait_room: null, repair_after: null });
    // The event the run waited for now resumes nothing.
    await deliver({ eventType: REVOKE, assetId: asset });
    expect((await getRun(runId)).status).toBe("terminated");
  });
});
