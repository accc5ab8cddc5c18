/**
 * Every run reaches its end, between D1 and the WaitRoom: faults injected at the points
 * where a paused run's state crosses from one store to the other by a message (the
 * resume lost, D1 down, the WaitRoom reset mid-send or wiped), and the repair that
 * brings the run to its end without that message. Real hook, queue, D1 and WaitRoom.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { waitRoomFor } from "../src/durable/wait-rooms";
import type { ResumeMessage } from "../src/queue/messages";
import { eventFields } from "./event-fields";
import {
  downD1,
  droppingQueue,
  elapseResendBackoff,
  hangingQueue,
  runCron,
  runRow,
  waitRoomRows,
  withWaitRoomBindings,
} from "./fault-support";
import { deliver, notify, recordNotifications, runWithStatus, until } from "./paused-support";
import { consume, consumed, createWorkflow } from "./workflow-support";

let outbound: ReturnType<typeof recordNotifications>;
beforeAll(() => {
  outbound = recordNotifications();
});

const CREATE = "system.api_token.create";
const REVOKE = "system.api_token.revoke";
const MINUTE = 60_000;

/** "Token created and not revoked within the hour: page someone"; revoked: note it. */
async function tokenWatch(asset: string): Promise<string> {
  const workflow = await createWorkflow({
    name: `token watch ${asset}`,
    trigger: { eventTypes: [CREATE], filter: { field: "id", op: "eq", value: asset } },
    start: "wait",
    nodes: {
      wait: { kind: "event", eventTypes: [REVOKE], timeoutSeconds: 3600, onTimeout: "page", next: "revoked" },
      revoked: notify("revoked"),
      page: notify("page"),
    },
  });
  return workflow.id;
}

/** A token asset with a run of its watch paused on it. */
async function pausedRun() {
  const asset = `00T${crypto.randomUUID().replaceAll("-", "")}`;
  const workflowId = await tokenWatch(asset);
  await deliver({ eventType: CREATE, assetId: asset });
  const run = await runWithStatus(workflowId, "waiting");
  return { asset, workflowId, runId: run.id };
}

/** A revoke on the asset as the consumer hands it to the WaitRoom. */
const revokeOn = (asset: string) => ({
  uuid: crypto.randomUUID(),
  fields: eventFields({ id: asset, eventType: REVOKE, eventDate: new Date().toISOString() }),
});

const ended = (workflowId: string) => runWithStatus(workflowId, "completed");

describe("a resume that never reaches D1", () => {
  it("lost while a dead consumer held the run's lease: the WaitRoom re-sends it until D1 has it", async () => {
    const { asset, workflowId, runId } = await pausedRun();
    // The consumer dies holding the lease; its resume retries are refused while the lease
    // lasts and end in the dead-letter queue: from the WaitRoom's side, the message is gone.
    await env.DB.prepare("update runs set lease_until = ? where id = ?")
      .bind(new Date(Date.now() + 5 * MINUTE).toISOString(), runId)
      .run();
    // The event's consumer cannot take the run either: the decision stays in the WaitRoom's outbox.
    const [revoke] = await deliver({ eventType: REVOKE, assetId: asset });
    await consumed(revoke?.uuid ?? "");
    expect((await runRow(runId))?.status).toBe("waiting");
    expect((await waitRoomRows(asset)).unacked).toBe(1);
    const lost = droppingQueue();
    await withWaitRoomBindings(asset, { EVENTS: lost.queue });
    await elapseResendBackoff(asset);
    await runDurableObjectAlarm(waitRoomFor(env, null, asset));
    expect(lost.dropped).toHaveLength(1);
    expect((await runRow(runId))?.status).toBe("waiting");

    // The lease runs out; the WaitRoom's backoff elapses and its alarm sends the resume again.
    await env.DB.prepare("update runs set lease_until = null where id = ?").bind(runId).run();
    await withWaitRoomBindings(asset, { EVENTS: env.EVENTS });
    await elapseResendBackoff(asset);
    await runDurableObjectAlarm(waitRoomFor(env, null, asset));
    const run = await ended(workflowId);
    expect(run.id).toBe(runId);
    expect(outbound.calls("revoked", asset)).toHaveLength(1);
    // Acknowledged: the WaitRoom keeps nothing of the run.
    await until(async () => (await waitRoomRows(asset)).waits === 0, "the WaitRoom to forget the wait");
    expect(await waitRoomRows(asset)).toMatchObject({ waits: 0, waitTypes: 0 });
    // Then D1 forgets which room held it: a write of its own, made after the ack returns.
    await until(async () => (await runRow(runId))?.wait_room === null, "D1 to forget the wait's room");
  });

  it("D1 down for half an hour while the wait resolves: the cron's check has it re-sent once D1 is back", async () => {
    const { asset, workflowId, runId } = await pausedRun();
    const lost = droppingQueue();
    await withWaitRoomBindings(asset, { EVENTS: lost.queue });
    // The event reaches the WaitRoom (as the consumer hands it over); its resume goes by message.
    await waitRoomFor(env, null, asset).deliver([revokeOn(asset)]);
    const resume = lost.dropped[0] as ResumeMessage;
    expect(resume).toMatchObject({ kind: "resume", runId });
    // Every delivery of the resume meets D1 down and is retried, until the queue gives up on it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await consume([resume], { DB: downD1() });
      expect(result.retryMessages).toHaveLength(1);
    }
    await expect(runCron(Date.now() + 20 * MINUTE, { DB: downD1() })).rejects.toThrow(/unavailable/);
    expect((await runRow(runId))?.status).toBe("waiting");

    // D1 is back. The cron finds the run waiting past its check time and asks the WaitRoom,
    // which sends the resolved wait again at once.
    await withWaitRoomBindings(asset, { EVENTS: env.EVENTS });
    await runCron(Date.now() + 31 * MINUTE);
    expect((await ended(workflowId)).id).toBe(runId);
    expect(outbound.calls("revoked", asset)).toHaveLength(1);
  });

  it("the WaitRoom reset while sending: the alarm set before the send re-sends it", async () => {
    const { asset, workflowId, runId } = await pausedRun();
    const wire = hangingQueue();
    await withWaitRoomBindings(asset, { EVENTS: wire.queue });
    const stub = waitRoomFor(env, null, asset);
    const delivering = stub.deliver([revokeOn(asset)]).catch((err: unknown) => err);
    await until(async () => wire.sending() > 0, "the resume to be on the wire");
    // Resolution and alarm are stored before the send: whatever becomes of this instance, the alarm re-sends.
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    expect((await waitRoomRows(asset)).unacked).toBe(1);
    // The object goes away mid-send (a deploy, an eviction).
    // (Cut from inside the object: its promises belong to it.)
    await runInDurableObject(stub, () => wire.cut());
    await delivering;
    await evictDurableObject(stub);
    await elapseResendBackoff(asset);
    await runDurableObjectAlarm(stub);
    const run = await ended(workflowId);
    expect(run.id).toBe(runId);
    expect(outbound.calls("revoked", asset)).toHaveLength(1);
  });
});

describe("a wait its WaitRoom no longer holds", () => {
  it("wiped from the WaitRoom (a reset object): the cron registers it again from D1 and an event resumes it", async () => {
    const { asset, workflowId, runId } = await pausedRun();
    await runInDurableObject(waitRoomFor(env, null, asset), (_instance, state) => {
      state.storage.sql.exec("DELETE FROM waits");
      state.storage.sql.exec("DELETE FROM wait_types");
    });
    await runCron(Date.now() + 16 * MINUTE);
    expect((await waitRoomRows(asset)).waits).toBe(1);
    await deliver({ eventType: REVOKE, assetId: asset });
    expect((await ended(workflowId)).id).toBe(runId);
  });

  it("never registered (the consumer died after writing the pause): registered by the cron, with its original deadline", async () => {
    const { asset, workflowId, runId } = await pausedRun();
    await runInDurableObject(waitRoomFor(env, null, asset), (_instance, state) => {
      state.storage.sql.exec("DELETE FROM waits");
      state.storage.sql.exec("DELETE FROM wait_types");
    });
    // Its deadline has passed meanwhile: registering it again times it out, down the page branch.
    const until_ = new Date(Date.now() - 1000).toISOString();
    await env.DB.prepare("update runs set waiting_for = json_set(waiting_for, '$.until', ?) where id = ?")
      .bind(until_, runId)
      .run();
    await runCron(Date.now() + 16 * MINUTE);
    await runDurableObjectAlarm(waitRoomFor(env, null, asset));
    const run = await runWithStatus(workflowId, "completed");
    expect(run.id).toBe(runId);
    expect(outbound.calls("page", asset)).toHaveLength(1);
    expect(outbound.calls("revoked", asset)).toHaveLength(0);
  });
});

describe("WaitRoom storage is bounded by live work and a fixed window", () => {
  it("keeps nothing of a run once its resume is recorded", async () => {
    const { asset, workflowId } = await pausedRun();
    await deliver({ eventType: REVOKE, assetId: asset });
    await ended(workflowId);
    await until(async () => (await waitRoomRows(asset)).waits === 0, "the wait to be acknowledged");
    expect(await waitRoomRows(asset)).toMatchObject({ waits: 0, waitTypes: 0, tombstones: 0 });
  });

  it("drops buffered events after the buffer window and tombstones after a day, on its own alarm", async () => {
    const { asset, runId } = await pausedRun();
    const stub = waitRoomFor(env, null, asset);
    await stub.deliver([{ uuid: crypto.randomUUID(), fields: eventFields({ id: asset, eventType: CREATE }) }]);
    await stub.cancel([runId]);
    expect(await waitRoomRows(asset)).toMatchObject({ waits: 0, waitTypes: 0, buffered: 1, tombstones: 1 });
    // An alarm is pending for their expiry even with no wait left.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE recent_events SET received_at = ?", Date.now() - 2 * 3600_000);
      state.storage.sql.exec("UPDATE cancelled_runs SET cancelled_at = ?", Date.now() - 25 * 3600_000);
    });
    await runDurableObjectAlarm(stub);
    expect(await waitRoomRows(asset)).toMatchObject({ waits: 0, waitTypes: 0, buffered: 0, tombstones: 0 });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});
