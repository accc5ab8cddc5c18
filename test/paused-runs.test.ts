/**
 * Event nodes end to end: real deliveries at /hooks/okta, the real queue, D1 and the
 * asset's WaitRoom. Each test uses its own asset ids, so runs never see each other.
 */
import { evictDurableObject, listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { waitRoomFor, waitRoomName } from "../src/durable/wait-rooms";
import { deliver, notify, recordNotifications, runsOf, runWithStatus, stepsOf, until } from "./paused-support";
import { apiJson, createWorkflow } from "./workflow-support";

/** Creates a workflow through the API and returns its id. */
async function workflow(definition: Record<string, unknown>): Promise<string> {
  return (await createWorkflow(definition)).id;
}

let outbound: ReturnType<typeof recordNotifications>;
beforeAll(() => {
  outbound = recordNotifications();
});

const START = "system.import.start";
const COMPLETE = "system.import.complete";
const ROADBLOCK = "system.import.roadblock";

/** Import watchdog: start -> wait for complete/roadblock on the same app -> branch on the type. */
function watchdog(assetId: string, extra: { timeoutSeconds?: number; onTimeout?: string | null } = {}) {
  return {
    name: `watchdog ${assetId}`,
    trigger: { eventTypes: [START], filter: { field: "id", op: "eq", value: assetId } },
    start: "wait",
    nodes: {
      wait: { kind: "event", eventTypes: [COMPLETE, ROADBLOCK], next: "which", ...extra },
      which: {
        kind: "condition",
        when: { field: "eventType", op: "eq", value: ROADBLOCK },
        true: "roadblock",
        false: "done",
      },
      roadblock: notify("roadblock"),
      done: notify("done"),
      ...(extra.onTimeout ? { stuck: notify("stuck") } : {}),
    },
  };
}

// A minute ago: a wait's deadline counts from its event's published time, so the times must be recent.
const BASE_MS = Date.now() - 60_000;
const at = (seconds: number) => new Date(BASE_MS + seconds * 1000);

describe("pause and resume", () => {
  it("pauses at the event node, shows what it waits for, and resumes on a matching event", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset, { timeoutSeconds: 3600 }));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");

    const detail = await apiJson<{
      status: string;
      waitingFor: { assetId: string; eventTypes: string[]; until: string };
    }>("GET", `/api/runs/${waiting.id}`);
    expect(detail.status).toBe("waiting");
    expect(detail.waitingFor.assetId).toBe(asset);
    expect(detail.waitingFor.eventTypes).toEqual([COMPLETE, ROADBLOCK]);
    expect(Date.parse(detail.waitingFor.until)).toBeGreaterThan(Date.now() + 3500_000);

    const resumer = await deliver({ eventType: COMPLETE, assetId: asset, published: at(30) });
    const completed = await runWithStatus(workflowId, "completed");
    expect(completed.id).toBe(waiting.id);
    const steps = await stepsOf(completed.id);
    expect(steps.map((s) => [s.node_id, s.outcome])).toEqual([
      ["wait", "next"],
      ["which", "false"],
      ["done", "next"],
    ]);
    expect(JSON.parse(steps[0]?.output ?? "{}").eventUuid).toBe(resumer[0]?.uuid);
    // The action after the wait reads the resuming event's fields, not the trigger's.
    expect(outbound.calls("done", asset)).toEqual([{ eventType: COMPLETE, run: completed.id, asset }]);
  });

  it("takes the True branch of a condition on the resuming event", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    await runWithStatus(workflowId, "waiting");
    await deliver({ eventType: ROADBLOCK, assetId: asset, published: at(5) });
    const run = await runWithStatus(workflowId, "completed");
    expect((await stepsOf(run.id)).map((s) => s.outcome)).toEqual(["next", "true", "next"]);
    expect(outbound.calls("roadblock", asset)).toHaveLength(1);
    expect(outbound.calls("done", asset)).toHaveLength(0);
  });

  it("stays paused for another type, another asset, a failing filter, or an event outside the category", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const definition = watchdog(asset);
    const withFilter = { ...definition.nodes.wait, filter: { field: "eventResult", op: "eq", value: "SUCCESS" } };
    definition.nodes = { ...definition.nodes, wait: withFilter };
    const workflowId = await workflow(definition);
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const waiting = await runWithStatus(workflowId, "waiting");

    const ignored = await deliver(
      { eventType: "system.api_token.create", assetId: asset, published: at(1) },
      { eventType: COMPLETE, assetId: `other-${crypto.randomUUID()}`, published: at(2) },
      { eventType: COMPLETE, assetId: asset, published: at(3), result: "FAILURE" },
      { eventType: "user.lifecycle.create", assetId: asset, published: at(4) },
    );
    // Wait until the consumer has handled all four, then check the run did not move.
    await until(async () => {
      const consumed = await Promise.all(
        ignored.map((e) =>
          env.DB.prepare("select consumed_at from events where uuid = ?")
            .bind(e.uuid)
            .first<{ consumed_at: string | null }>(),
        ),
      );
      return consumed.every((row) => row?.consumed_at);
    }, "the ignored events to be consumed");
    expect((await runsOf(workflowId)).map((r) => [r.id, r.status])).toEqual([[waiting.id, "waiting"]]);
    expect((await stepsOf(waiting.id)).map((s) => s.status)).toEqual(["waiting"]);
  });
});

describe("the event-before-wait race", () => {
  it("resumes a run whose resuming event came in the same delivery, and millisecond, as its trigger", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    // Okta batches events; the completion is processed before the run reaches its wait.
    await deliver(
      { eventType: START, assetId: asset, published: at(0) },
      { eventType: COMPLETE, assetId: asset, published: at(0) },
    );
    const run = await runWithStatus(workflowId, "completed");
    expect((await stepsOf(run.id)).map((s) => s.node_id)).toEqual(["wait", "which", "done"]);
  });

  it("resumes a run whose resuming event was delivered before its trigger (out of order)", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(10) });
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    await runWithStatus(workflowId, "completed");
  });

  it("does not count an event published before the trigger", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(0) });
    await deliver({ eventType: START, assetId: asset, published: at(10) });
    await runWithStatus(workflowId, "waiting");
  });
});

describe("exactly once", () => {
  it("resumes once when the same event is delivered twice", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    await runWithStatus(workflowId, "waiting");
    const uuid = crypto.randomUUID();
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(5), uuid });
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(5), uuid });
    await runWithStatus(workflowId, "completed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outbound.calls("done", asset)).toHaveLength(1);
  });

  it("resumes every run one event matches, each once", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const ids = [
      await workflow(watchdog(asset)),
      await workflow({ ...watchdog(asset), name: `second watchdog ${asset}` }),
    ];
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    await deliver({ eventType: START, assetId: asset, published: at(1) });
    // Two workflows x two triggers: four waiting runs on one asset.
    await until(
      async () => (await Promise.all(ids.map(runsOf))).flat().filter((r) => r.status === "waiting").length === 4,
      "4 waiting runs",
    );
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(9) });
    await until(
      async () => (await Promise.all(ids.map(runsOf))).flat().every((r) => r.status === "completed"),
      "all completed",
    );
    expect(outbound.calls("done", asset)).toHaveLength(4);
  });
});

describe("timeouts", () => {
  it("takes the timeout branch when the alarm fires first", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset, { timeoutSeconds: 1, onTimeout: "stuck" }));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "completed");
    expect((await stepsOf(run.id)).map((s) => [s.node_id, s.outcome])).toEqual([
      ["wait", "timeout"],
      ["stuck", "next"],
    ]);
    expect(outbound.calls("stuck", asset)).toHaveLength(1);
    // The event that arrives after the timeout does nothing more.
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(5) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outbound.calls("done", asset)).toHaveLength(0);
  });

  it("ends the run timed_out when there is no timeout branch", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset, { timeoutSeconds: 1 }));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "timed_out");
    expect((await stepsOf(run.id)).map((s) => s.outcome)).toEqual(["timeout"]);
  });
});

describe("which events reach WaitRooms", () => {
  it("hands an event to its asset's WaitRoom only when some workflow waits for its type", async () => {
    const asset = `tok-${crypto.randomUUID()}`;
    // No saved workflow has an event node waiting for API token events.
    const [event] = await deliver({ eventType: "system.api_token.create", assetId: asset });
    await until(
      async () =>
        (await env.DB.prepare("select consumed_at from events where uuid = ?").bind(event?.uuid).first())?.consumed_at,
      "the event to be consumed",
    );
    const rooms = await listDurableObjectIds(env.WAIT_ROOMS);
    expect(rooms.some((id) => id.equals(env.WAIT_ROOMS.idFromName(waitRoomName(null, asset))))).toBe(false);
    // Import events are waited for by the watchdogs above, so they do reach their room.
    const app = `app-${crypto.randomUUID()}`;
    await workflow(watchdog(app));
    await deliver({ eventType: COMPLETE, assetId: app });
    await until(
      async () =>
        (await listDurableObjectIds(env.WAIT_ROOMS)).some((id) =>
          id.equals(env.WAIT_ROOMS.idFromName(waitRoomName(null, app))),
        ),
      "the WaitRoom of the import's app",
    );
  });
});

describe("restarts", () => {
  it("a run paused before its WaitRoom is evicted still resumes on the next event", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset, { timeoutSeconds: 3600 }));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "waiting");
    await evictDurableObject(waitRoomFor(env, null, asset));
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(7) });
    expect((await runWithStatus(workflowId, "completed")).id).toBe(run.id);
  });
});

describe("sequences and termination", () => {
  it("pauses and resumes at two event nodes one after the other", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow({
      name: `two waits ${asset}`,
      trigger: { eventTypes: [START], filter: { field: "id", op: "eq", value: asset } },
      start: "first",
      nodes: {
        first: { kind: "event", eventTypes: [COMPLETE], next: "second" },
        second: { kind: "event", eventTypes: [COMPLETE], next: "done" },
        done: notify("done"),
      },
    });
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "waiting");
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(10) });
    // The first completion resumes the first wait only: the second waits for a later one.
    await until(
      async () => (await stepsOf(run.id)).some((s) => s.node_id === "second" && s.status === "waiting"),
      "second wait",
    );
    expect((await runsOf(workflowId))[0]?.status).toBe("waiting");
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(20) });
    await runWithStatus(workflowId, "completed");
    expect((await stepsOf(run.id)).map((s) => s.node_id)).toEqual(["first", "second", "done"]);
  });

  it("terminating a waiting run removes it from its WaitRoom; a later event does not resume it", async () => {
    const asset = `app-${crypto.randomUUID()}`;
    const workflowId = await workflow(watchdog(asset));
    await deliver({ eventType: START, assetId: asset, published: at(0) });
    const run = await runWithStatus(workflowId, "waiting");
    const before = await apiJson<{ runs: Array<{ runId: string }> }>(
      "GET",
      `/api/wait-rooms/${encodeURIComponent(asset)}`,
    );
    expect(before.runs.map((paused) => paused.runId)).toEqual([run.id]);
    const terminated = await apiJson<{ status: string }>("POST", `/api/runs/${run.id}/terminate`);
    expect(terminated.status).toBe("terminated");
    const after = await apiJson<{ runs: Array<{ runId: string }> }>(
      "GET",
      `/api/wait-rooms/${encodeURIComponent(asset)}`,
    );
    expect(after.runs).toEqual([]);
    await deliver({ eventType: COMPLETE, assetId: asset, published: at(3) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await runsOf(workflowId))[0]?.status).toBe("terminated");
    expect(outbound.calls("done", asset)).toHaveLength(0);
  });
});
