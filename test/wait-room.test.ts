/**
 * The WaitRoom Durable Object through its RPC methods, its alarm and eviction. The
 * resume messages it sends go to the real queue; the runs they name do not exist in
 * this file's D1, so the consumer settles them without effect.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AssetEvent, WaitRequest } from "../src/durable/wait-messages";
import type { WaitRoom } from "../src/durable/wait-room";
import { waitRoomFor } from "../src/durable/wait-rooms";

const COMPLETE = "system.import.complete";

function room(assetId = `app-${crypto.randomUUID()}`) {
  return { assetId, stub: waitRoomFor(env, null, assetId) };
}

function waitRequest(assetId: string, overrides: Partial<WaitRequest> = {}): WaitRequest {
  return {
    runId: crypto.randomUUID(),
    nodeId: "wait",
    workflowId: "wf-1",
    assetId,
    eventTypes: [COMPLETE],
    filter: null,
    after: { uuid: "trigger", eventDate: "2026-01-01T10:00:00.000Z" },
    deadline: null,
    ...overrides,
  };
}

function assetEvent(assetId: string, eventType = COMPLETE, eventDate = "2026-01-01T10:00:05.000Z"): AssetEvent {
  return {
    uuid: crypto.randomUUID(),
    fields: {
      id: assetId,
      type: "AppInstance",
      alternateId: null,
      displayName: null,
      eventType,
      eventResult: "SUCCESS",
      eventDate,
      eventTimestamp: eventDate,
    },
  };
}

/** The stored resolution of each wait, straight from the Durable Object's SQLite. */
async function resolutions(stub: DurableObjectStub<WaitRoom>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ run_id: string; resolution: string | null; sent_at: number | null }>(
        "SELECT run_id, resolution, sent_at FROM waits ORDER BY created_at",
      )
      .toArray()
      .map((row) => ({
        runId: row.run_id,
        resolution: row.resolution && JSON.parse(row.resolution).kind,
        sent: row.sent_at !== null,
      })),
  );
}

describe("WaitRoom", () => {
  it("holds a wait, lists it, and resolves it with a matching event", async () => {
    const { assetId, stub } = room();
    const request = waitRequest(assetId);
    expect(await stub.wait(request)).toEqual({ state: "waiting", deadline: null });
    expect((await stub.paused()).map((p) => p.runId)).toEqual([request.runId]);
    expect(await stub.deliver([assetEvent(assetId, "system.import.start")])).toEqual({
      resumed: 0,
      duplicates: 0,
      handedOff: [],
    });
    expect(await stub.deliver([assetEvent(assetId)])).toMatchObject({ resumed: 1, duplicates: 0, handedOff: [] });
    expect(await stub.paused()).toEqual([]);
    expect(await resolutions(stub)).toEqual([{ runId: request.runId, resolution: "event", sent: true }]);
  });

  it("is idempotent: a repeated wait and a repeated event change nothing", async () => {
    const { assetId, stub } = room();
    const request = waitRequest(assetId);
    await stub.wait(request);
    expect(await stub.wait(request)).toEqual({ state: "waiting", deadline: null });
    const event = assetEvent(assetId);
    expect((await stub.deliver([event])).resumed).toBe(1);
    expect(await stub.deliver([event])).toEqual({ resumed: 0, duplicates: 1, handedOff: [] });
    // The wait is resolved; asking to wait again for the same (run, node) does not wait twice.
    expect((await stub.wait(request)).state).toBe("resolved");
    expect(await stub.paused()).toEqual([]);
  });

  it("hands up to `handoff` decisions to its caller, unsent until the hand-off expires; sends the rest", async () => {
    const { assetId, stub } = room();
    const first = waitRequest(assetId);
    const second = waitRequest(assetId);
    await stub.wait(first);
    await stub.wait(second);
    const { resumed, handedOff } = await stub.deliver([assetEvent(assetId)], 1);
    expect(resumed).toBe(2);
    expect(handedOff).toHaveLength(1);
    const sent = new Map((await resolutions(stub)).map((r) => [r.runId, r.sent]));
    expect(sent.get(handedOff[0]?.runId ?? "")).toBe(false);
    expect([...sent.values()].filter(Boolean)).toHaveLength(1);
    // The hand-off's resend is due in 30 s: the alarm is set for it, in case the caller never acks.
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm ?? 0).toBeGreaterThan(Date.now() + 20_000);
  });

  it("resolves a new wait from its buffer of recent events", async () => {
    const { assetId, stub } = room();
    await stub.deliver([assetEvent(assetId)]);
    expect((await stub.wait(waitRequest(assetId))).state).toBe("resolved");
  });

  it("survives eviction: waits and buffered events are in SQLite, not memory", async () => {
    const { assetId, stub } = room();
    const request = waitRequest(assetId, { deadline: Date.now() + 60_000 });
    await stub.wait(request);
    await evictDurableObject(stub);
    expect((await stub.paused()).map((p) => p.runId)).toEqual([request.runId]);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(request.deadline);
    expect((await stub.deliver([assetEvent(assetId)])).resumed).toBe(1);
  });

  it("times out expired waits on the alarm, once, and keeps the alarm at the earliest open deadline", async () => {
    const { assetId, stub } = room();
    const soon = waitRequest(assetId, { deadline: Date.now() + 20 });
    const later = waitRequest(assetId, { deadline: Date.now() + 3_600_000 });
    await stub.wait(later);
    await stub.wait(soon);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await runDurableObjectAlarm(stub);
    // At-least-once alarms: a second run must not resolve anything again.
    await runInDurableObject(stub, (instance) => instance.alarm());
    const byRun = new Map((await resolutions(stub)).map((r) => [r.runId, r]));
    expect(byRun.get(soon.runId)).toEqual({ runId: soon.runId, resolution: "timeout", sent: true });
    expect(byRun.get(later.runId)?.resolution).toBeNull();
    // The timeout's resume is re-sent (about a minute on) until the consumer acknowledges it...
    const resend = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(resend ?? 0).toBeGreaterThan(Date.now() + 30_000);
    expect(resend ?? 0).toBeLessThan(later.deadline ?? 0);
    // ...and once acknowledged, the alarm is back at the earliest open deadline.
    await stub.ack([{ runId: soon.runId, nodeId: soon.nodeId }]);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(later.deadline);
  });

  it("lets only one of an event and a timeout win the same wait", async () => {
    for (let i = 0; i < 5; i++) {
      const { assetId, stub } = room();
      const request = waitRequest(assetId, { deadline: Date.now() + 5 });
      await stub.wait(request);
      await new Promise((resolve) => setTimeout(resolve, 10));
      const [delivered] = await Promise.all([stub.deliver([assetEvent(assetId)]), runDurableObjectAlarm(stub)]);
      const [resolution] = await resolutions(stub);
      expect(resolution?.resolution === "event").toBe(delivered.resumed === 1);
      expect(["event", "timeout"]).toContain(resolution?.resolution);
    }
  });

  it("cancel removes an open wait; a later event does not resolve it", async () => {
    const { assetId, stub } = room();
    const request = waitRequest(assetId);
    await stub.wait(request);
    expect(await stub.cancel(request.runId)).toBe(1);
    expect(await stub.cancel(request.runId)).toBe(0);
    expect((await stub.deliver([assetEvent(assetId)])).resumed).toBe(0);
    expect(await stub.paused()).toEqual([]);
  });

  it("rejects malformed RPC input without storing anything", async () => {
    const { assetId, stub } = room();
    // Called inside the object: a rejection thrown across RPC is also reported as unhandled by the test runner.
    await runInDurableObject(stub, async (instance) => {
      await expect(instance.wait({ runId: "x" })).rejects.toThrow(/WaitRoom\.wait: nodeId/);
      await expect(instance.deliver({ uuid: "e", fields: { eventType: 1 } })).rejects.toThrow(/WaitRoom\.deliver/);
      await expect(instance.cancel(42)).rejects.toThrow(/WaitRoom\.cancel/);
    });
    expect(await stub.paused()).toEqual([]);
    expect((await stub.deliver([assetEvent(assetId)])).resumed).toBe(0);
  });
});
