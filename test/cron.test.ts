/**
 * When the queue fails after D1 has stored a delivery: Okta still gets 200, and the
 * cron re-enqueues the stranded events once they are past the grace period.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { oktaDelivery, oktaEvent } from "../tools/local-okta/builders";
import { runCron } from "./fault-support";
import { failingQueue, hookRequest, postDelivery, sendWithEnv, storedEvent } from "./support";
import { until } from "./workflow-support";

/** Posts a delivery while every queue send fails; returns its events' uuids. */
async function deliverWhileQueueIsDown(count: number): Promise<string[]> {
  const events = Array.from({ length: count }, () => oktaEvent({ eventType: "system.api_token.create" }));
  const queue = failingQueue();
  const res = await sendWithEnv(hookRequest({ body: JSON.stringify(oktaDelivery(events)) }), { EVENTS: queue.queue });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("");
  expect(queue.attempts()).toBeGreaterThan(0);
  return events.map((event) => String(event.uuid));
}

async function enqueuedAt(uuids: string[]): Promise<(string | null)[]> {
  return Promise.all(uuids.map(async (uuid) => (await storedEvent(uuid))?.enqueued_at ?? null));
}

it("a queue failure still answers 200 with the events stored but not enqueued", async () => {
  const uuids = await deliverWhileQueueIsDown(3);
  for (const uuid of uuids) {
    const row = await storedEvent(uuid);
    expect(row).not.toBeNull();
    expect(row?.enqueued_at).toBeNull();
  }
});

it("the cron leaves events younger than a minute alone, then re-enqueues them", async () => {
  const uuids = await deliverWhileQueueIsDown(2);

  await runCron(Date.now() + 1_000);
  expect(await enqueuedAt(uuids)).toEqual([null, null]);

  const cronAt = Date.now() + 61_000;
  await runCron(cronAt);
  const after = await enqueuedAt(uuids);
  for (const value of after) expect(value).not.toBeNull();
});

it("the re-enqueued events really reach the consumer", async () => {
  const uuids = await deliverWhileQueueIsDown(1);
  await runCron(Date.now() + 61_000);
  await expect
    .poll(async () => (await storedEvent(uuids[0] ?? ""))?.consumed_at ?? null, { timeout: 10_000, interval: 100 })
    .not.toBeNull();
});

it("re-enqueues more than one sendBatch call's worth (150 events)", async () => {
  const uuids = await deliverWhileQueueIsDown(150);
  await runCron(Date.now() + 61_000);
  const counts = await env.DB.prepare(
    "select count(*) as stored, count(enqueued_at) as enqueued from events where uuid in (select value from json_each(?))",
  )
    .bind(JSON.stringify(uuids))
    .first();
  expect(counts).toEqual({ stored: 150, enqueued: 150 });
});

it("keeps the events stranded while the queue is still down, without counting the failed send, and enqueues them on a later run", async () => {
  const uuids = await deliverWhileQueueIsDown(1);
  const stillDown = failingQueue();
  await runCron(Date.now() + 61_000, { EVENTS: stillDown.queue });
  expect(stillDown.attempts()).toBeGreaterThan(0);
  expect(await enqueuedAt(uuids)).toEqual([null]);
  // Only a send that went through uses up one of the event's re-sends.
  expect((await storedEvent(uuids[0] ?? ""))?.requeue_count).toBe(0);

  await runCron(Date.now() + 122_000);
  expect((await enqueuedAt(uuids))[0]).not.toBeNull();
});

it("does not re-send events the consumer has handled", async () => {
  const event = oktaEvent({ eventType: "system.import.start" });
  expect((await postDelivery(oktaDelivery([event]))).status).toBe(200);
  const before = await until(async () => {
    const row = await storedEvent(String(event.uuid));
    return row?.consumed_at ? row : null;
  }, "the consumer to handle the event");
  await runCron(Date.now() + 3_600_000);
  const after = await storedEvent(String(event.uuid));
  expect(after?.enqueued_at).toBe(before.enqueued_at);
  expect(after?.requeue_count).toBe(0);
});

/** Stores an event whose message was "lost": recorded as sent at `sentAt`, never handled. */
async function lostEvent(sentAt: Date, requeues: number): Promise<string> {
  const event = oktaEvent({ eventType: "system.import.start" });
  const res = await sendWithEnv(hookRequest({ body: JSON.stringify(oktaDelivery([event])) }), {
    EVENTS: failingQueue().queue,
  });
  expect(res.status).toBe(200);
  await env.DB.prepare("update events set enqueued_at = ?, requeue_count = ? where uuid = ?")
    .bind(sentAt.toISOString(), requeues, event.uuid)
    .run();
  return String(event.uuid);
}

it("re-sends an event sent over 15 minutes ago that the consumer never handled", async () => {
  const now = Date.now();
  const lost = await lostEvent(new Date(now - 16 * 60_000), 0);
  const recent = await lostEvent(new Date(now - 5 * 60_000), 0);
  // Two minutes on: past the grace period of a fresh delivery's own send.
  await runCron(now + 2 * 60_000);
  const handled = await until(async () => (await storedEvent(lost))?.consumed_at, "the re-sent event to be handled");
  expect(handled).toBeTruthy();
  expect((await storedEvent(lost))?.requeue_count).toBe(1);
  // Sent 5 minutes ago: possibly still in a queue backlog, so left alone for now.
  expect((await storedEvent(recent))?.requeue_count).toBe(0);
});

it("gives up on an event after 5 re-sends by recording it as a dead letter, not by dropping it", async () => {
  const sentAt = new Date(Date.now() - 60 * 60_000);
  const exhausted = await lostEvent(sentAt, 5);
  await runCron(Date.now() + 2 * 60_000);
  const row = await storedEvent(exhausted);
  expect(row?.requeue_count).toBe(5);
  expect(row?.enqueued_at).toBe(sentAt.toISOString());
  const letter = await env.DB.prepare("select reason from dead_letters where id = ?")
    .bind(`abandoned:${exhausted}`)
    .first<{ reason: string }>();
  expect(letter?.reason).toMatch(/re-sent this event 5 times/);
});
