/**
 * The events queue consumer, driven with real message batches: each message is
 * acked, retried with backoff, or dead-lettered on its own.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, type QueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { storeDelivery } from "../src/db/events";
import worker from "../src/index";
import { LogEvent } from "../src/okta/envelope";
import { normaliseEvent } from "../src/okta/normalise";
import { oktaEvent } from "../tools/local-okta/builders";
import { expectLogged } from "./expected-logs";
import { failingQueue, storedEvent } from "./support";

const QUEUE = "okta-events";

/** Stores one event the way the hook does (without enqueueing it) and returns its queue message body. */
async function storeEvent(eventType = "system.api_token.create") {
  const eventId = crypto.randomUUID();
  const receivedAt = new Date();
  const normalised = normaliseEvent(LogEvent.parse(oktaEvent({ eventType })), eventId, receivedAt);
  await storeDelivery(env.DB, { eventId, source: null, eventTime: null, receivedAt: receivedAt.toISOString() }, [
    normalised,
  ]);
  return { kind: "event", uuid: normalised.uuid, inCategory: normalised.inCategory, fields: normalised.fields };
}

interface TestMessage {
  id: string;
  body: unknown;
  attempts?: number;
}

interface ConsumeResult extends QueueResult {
  /** The delay each retried message asked for (getQueueResult does not report it). */
  retryDelays: Record<string, number | undefined>;
}

/** Runs the Worker's queue handler on a real MessageBatch and reports how each message was settled. */
async function consume(messages: TestMessage[], overrides: Partial<Env> = {}): Promise<ConsumeResult> {
  const batch = createMessageBatch(
    QUEUE,
    messages.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  // Observe retry()'s options without changing what it does.
  const retrySpies = batch.messages.map((message) => [message.id, vi.spyOn(message, "retry")] as const);
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  const result = await getQueueResult(batch, ctx);
  const retryDelays: Record<string, number | undefined> = {};
  for (const [id, spy] of retrySpies) {
    const call = spy.mock.calls[0];
    if (call) retryDelays[id] = call[0]?.delaySeconds;
  }
  return { ...result, retryDelays };
}

/** Makes D1 itself refuse to update one event row, as a transient storage failure would. */
async function withFailingUpdate<T>(uuid: string, run: () => Promise<T>): Promise<T> {
  const trigger = `fail_update_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.exec(
    `CREATE TRIGGER ${trigger} BEFORE UPDATE ON events WHEN NEW.uuid = '${uuid}' BEGIN SELECT RAISE(ABORT, 'injected'); END`,
  );
  try {
    return await run();
  } finally {
    await env.DB.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
  }
}

describe("a valid event message", () => {
  it("is acked and the event is marked consumed", async () => {
    const body = await storeEvent();
    const result = await consume([{ id: "valid-1", body }]);
    expect(result.explicitAcks).toEqual(["valid-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
    const row = await storedEvent(body.uuid);
    expect(row?.consumed_at).not.toBeNull();
  });

  it("outside the category is acked and marked consumed too", async () => {
    const body = await storeEvent("user.session.start");
    expect(body.inCategory).toBe(false);
    const result = await consume([{ id: "valid-2", body }]);
    expect(result.explicitAcks).toEqual(["valid-2"]);
    expect((await storedEvent(body.uuid))?.consumed_at).not.toBeNull();
  });

  it("delivered twice is acked twice and keeps its first consumed_at", async () => {
    const body = await storeEvent();
    await consume([{ id: "dup-1", body }]);
    const first = (await storedEvent(body.uuid))?.consumed_at;
    expect(first).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await consume([{ id: "dup-2", body, attempts: 2 }]);
    expect(again.explicitAcks).toEqual(["dup-2"]);
    expect((await storedEvent(body.uuid))?.consumed_at).toBe(first);
  });
});

describe("a malformed message", () => {
  it.each([
    ["a string", "not an event"],
    ["an event without uuid", { kind: "event", inCategory: true, fields: {} }],
    ["an unknown kind", { kind: "something-else", uuid: "x" }],
    ["null", null],
  ])("(%s) is dead-lettered and acked, never retried", async (_, body) => {
    const deadLettered = expectLogged("warn", "message dead-lettered");
    const result = await consume([{ id: "bad-1", body }]);
    expect(deadLettered).toEqual([["message dead-lettered", expect.objectContaining({ id: "bad-1" })]]);
    expect(result.explicitAcks).toEqual(["bad-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryBatch.retry).toBe(false);
  });

  it("is retried, not dropped, when the dead-letter queue cannot take it", async () => {
    const dlq = failingQueue();
    const result = await consume([{ id: "bad-2", body: { kind: "event" }, attempts: 2 }], { DEAD_LETTERS: dlq.queue });
    expect(dlq.attempts()).toBe(1);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([{ msgId: "bad-2" }]);
    expect(result.retryDelays).toEqual({ "bad-2": 10 });
  });
});

describe("a transient failure", () => {
  it("retries the message with backoff and leaves the event unconsumed; the next attempt succeeds", async () => {
    const retrying = expectLogged("error", "consumer step failed; retrying");
    const body = await storeEvent();
    const failed = await withFailingUpdate(body.uuid, () => consume([{ id: "flaky-1", body, attempts: 3 }]));
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages).toEqual([{ msgId: "flaky-1" }]);
    expect(failed.retryDelays).toEqual({ "flaky-1": 20 });
    expect((await storedEvent(body.uuid))?.consumed_at).toBeNull();
    expect(retrying).toEqual([["consumer step failed; retrying", expect.objectContaining({ id: "flaky-1" })]]);

    const retried = await consume([{ id: "flaky-1", body, attempts: 4 }]);
    expect(retried.explicitAcks).toEqual(["flaky-1"]);
    expect((await storedEvent(body.uuid))?.consumed_at).not.toBeNull();
  });

  it("caps the backoff at five minutes", async () => {
    expectLogged("error", "consumer step failed; retrying");
    const body = await storeEvent();
    const failed = await withFailingUpdate(body.uuid, () => consume([{ id: "flaky-2", body, attempts: 12 }]));
    expect(failed.retryMessages).toEqual([{ msgId: "flaky-2" }]);
    expect(failed.retryDelays).toEqual({ "flaky-2": 300 });
  });
});

it("settles each message of a mixed batch on its own", async () => {
  expectLogged("warn", "message dead-lettered");
  expectLogged("error", "event batch failed; handling its events one by one", "consumer step failed; retrying");
  const good = await storeEvent();
  const flaky = await storeEvent("system.import.start");
  const result = await withFailingUpdate(flaky.uuid, () =>
    consume([
      { id: "m-good", body: good },
      { id: "m-bad", body: { kind: "event", uuid: 42 } },
      { id: "m-flaky", body: flaky },
    ]),
  );
  expect([...result.explicitAcks].sort()).toEqual(["m-bad", "m-good"]);
  expect(result.retryMessages).toEqual([{ msgId: "m-flaky" }]);
  expect(result.retryDelays).toEqual({ "m-flaky": 5 });
  expect((await storedEvent(good.uuid))?.consumed_at).not.toBeNull();
  expect((await storedEvent(flaky.uuid))?.consumed_at).toBeNull();
});
