/**
 * The WaitRoom's side of issue 15's argued findings, through its RPC methods: a wait
 * resolved from the buffer is handed to its caller (no resume message at once), a
 * stored row a later schema rejects is isolated instead of failing every event, and
 * the match rules that keep a run's resumptions a set and its org its own.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AssetEvent, WaitRequest } from "../src/durable/wait-messages";
import { HANDOFF_MS } from "../src/durable/wait-room";
import { waitRoomFor } from "../src/durable/wait-rooms";
import { expectLogged } from "./expected-logs";

const COMPLETE = "system.import.complete";
const at = (ms: number) => new Date(ms).toISOString();

function waitRequest(assetId: string, overrides: Partial<WaitRequest> = {}): WaitRequest {
  return {
    runId: crypto.randomUUID(),
    nodeId: "wait",
    workflowId: "wf-1",
    assetId,
    eventTypes: [COMPLETE],
    filter: null,
    after: { uuid: "trigger", eventDate: at(Date.now() - 60_000) },
    deadline: null,
    source: null,
    seen: ["trigger"],
    ...overrides,
  };
}

function assetEvent(assetId: string, published = at(Date.now() - 30_000), source: string | null = null): AssetEvent {
  return {
    uuid: crypto.randomUUID(),
    fields: {
      id: assetId,
      type: "AppInstance",
      alternateId: null,
      displayName: null,
      eventType: COMPLETE,
      eventResult: "SUCCESS",
      eventDate: published,
      eventTimestamp: published,
      source,
    },
  };
}

const newAsset = () => `app-${crypto.randomUUID()}`;

describe("a wait resolved from the buffer", () => {
  it("is handed to the caller: its resume message is due only after the hand-off time", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, null, assetId);
    await stub.deliver([assetEvent(assetId)]);
    const request = waitRequest(assetId);
    const state = await stub.wait(request);
    expect(state).toMatchObject({ state: "resolved", resolution: { kind: "event" } });
    const row = await runInDurableObject(stub, (_i, s) =>
      s.storage.sql
        .exec<{ sent_at: number | null; next_send_at: number }>(
          "SELECT sent_at, next_send_at FROM waits WHERE run_id = ?",
          request.runId,
        )
        .one(),
    );
    expect(row.sent_at).toBeNull();
    expect(row.next_send_at).toBeGreaterThan(Date.now() + HANDOFF_MS / 2);
  });
});

describe("timeouts decided by time", () => {
  it("a wait registered past its deadline times out, unless a buffered event came before the deadline", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, null, assetId);
    const deadline = Date.now() - 10_000;
    await stub.deliver([assetEvent(assetId, at(Date.now() - 1000))]);
    expect(await stub.wait(waitRequest(assetId, { deadline }))).toEqual({
      state: "resolved",
      resolution: { kind: "timeout" },
    });
    const before = assetEvent(assetId, at(deadline - 5000));
    await stub.deliver([before]);
    const state = await stub.wait(waitRequest(assetId, { deadline }));
    expect(state).toMatchObject({ state: "resolved", resolution: { kind: "event", event: { uuid: before.uuid } } });
  });
});

describe("a run's resumptions and its org", () => {
  it("an event the run already took never resumes it again, even in the same millisecond", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, null, assetId);
    const published = at(Date.now() - 5000);
    const [first, second] = [assetEvent(assetId, published), assetEvent(assetId, published)];
    await stub.deliver([first, second]);
    const after = { uuid: second.uuid, eventDate: published };
    const state = await stub.wait(waitRequest(assetId, { after, seen: ["trigger", first.uuid, second.uuid] }));
    expect(state.state).toBe("waiting");
  });

  it("an event of another source is not matched, even in the same room", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, "acme", assetId);
    await stub.deliver([assetEvent(assetId, undefined, "globex")]);
    expect((await stub.wait(waitRequest(assetId, { source: "acme" }))).state).toBe("waiting");
  });
});

describe("a poison row", () => {
  it("a stored wait a later schema cannot read is dropped; other waits of the asset still resume", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, null, assetId);
    const good = waitRequest(assetId);
    const bad = waitRequest(assetId);
    await stub.wait(good);
    await stub.wait(bad);
    await runInDurableObject(stub, (_i, s) => {
      s.storage.sql.exec("UPDATE waits SET filter = ? WHERE run_id = ?", '{"op":"no such operator"}', bad.runId);
    });
    const logged = expectLogged("error", "unreadable wait dropped; the cron registers it again from D1");
    const { resumed } = await stub.deliver([assetEvent(assetId)]);
    expect(resumed).toBe(1);
    expect(logged.map(([, details]) => details)).toEqual([{ runId: bad.runId, error: expect.stringContaining("op") }]);
    const left = await runInDurableObject(stub, (_i, s) =>
      s.storage.sql.exec<{ run_id: string }>("SELECT run_id FROM waits").toArray(),
    );
    expect(left.map((r) => r.run_id)).toEqual([good.runId]);
  });

  it("a buffered event a later schema rejects is dropped instead of failing every new wait", async () => {
    const assetId = newAsset();
    const stub = waitRoomFor(env, null, assetId);
    await stub.deliver([assetEvent(assetId)]);
    await runInDurableObject(stub, (_i, s) => {
      s.storage.sql.exec("UPDATE recent_events SET event = ?", '{"uuid":"x","fields":{"eventType":7}}');
    });
    expect((await stub.wait(waitRequest(assetId))).state).toBe("waiting");
  });
});
