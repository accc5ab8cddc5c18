/**
 * The cron's re-send of stranded events: an event too large for a queue message goes by
 * reference, and one that cannot be sent at all neither blocks the others nor escapes
 * its re-send limit.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { oktaDelivery, oktaEvent } from "../tools/local-okta/builders";
import { runCron } from "./fault-support";
import { failingQueue, hookRequest, sendWithEnv, storedEvent } from "./support";
import { until } from "./workflow-support";

const CREATE = "system.api_token.create";
/** Cloudflare Queues refuse a message over 128 KB. */
const QUEUE_MESSAGE_LIMIT = 128 * 1024;

/** The real queue, refusing what Cloudflare's would: a message over 128 KB fails its whole sendBatch. */
function sizeCheckedQueue(): Queue {
  const check = (body: unknown) => {
    if (new TextEncoder().encode(JSON.stringify(body)).length > QUEUE_MESSAGE_LIMIT)
      throw new Error("message too large");
  };
  return {
    send: async (body: unknown, options?: QueueSendOptions) => {
      check(body);
      return env.EVENTS.send(body, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      for (const message of list) check(message.body);
      return env.EVENTS.sendBatch(list, options);
    },
    metrics: () => env.EVENTS.metrics(),
  } as Queue;
}

/** Stores events while the queue is down (so only the cron can send them); returns their uuids. */
async function strandedEvents(events: Record<string, unknown>[]): Promise<string[]> {
  const res = await sendWithEnv(hookRequest({ body: JSON.stringify(oktaDelivery(events)) }), {
    EVENTS: failingQueue().queue,
  });
  expect(res.status).toBe(200);
  return events.map((event) => String(event.uuid));
}

const consumedAt = async (uuid: string) => (await storedEvent(uuid))?.consumed_at ?? null;

it("an event too large for a queue message is re-sent by reference and handled; the events behind it too", async () => {
  const huge = oktaEvent({
    eventType: CREATE,
    target: [{ id: `00T${crypto.randomUUID()}`, type: "Token", alternateId: null, displayName: "x".repeat(200_000) }],
  });
  const [hugeUuid, ...others] = await strandedEvents([
    huge,
    oktaEvent({ eventType: CREATE }),
    oktaEvent({ eventType: CREATE }),
  ]);
  await runCron(Date.now() + 61_000, { EVENTS: sizeCheckedQueue() });
  for (const uuid of [hugeUuid ?? "", ...others]) {
    await until(async () => consumedAt(uuid), `event ${uuid} to be handled`);
  }
});

it("an event that cannot be sent at all does not hold back the others, and its failed sends do not use up its re-sends", async () => {
  const [bad, ...good] = await strandedEvents([oktaEvent({ eventType: CREATE }), oktaEvent({ eventType: CREATE })]);
  const refusesBad = {
    send: async (body: { uuid?: string }, options?: QueueSendOptions) => {
      if (body.uuid === bad) throw new Error("refused (injected)");
      return env.EVENTS.send(body, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<{ uuid?: string }>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      if (list.some((m) => m.body.uuid === bad)) throw new Error("refused (injected)");
      return env.EVENTS.sendBatch(list, options);
    },
    metrics: () => env.EVENTS.metrics(),
  } as unknown as Queue;
  await runCron(Date.now() + 61_000, { EVENTS: refusesBad });
  for (const uuid of good) await until(async () => consumedAt(uuid), "the good event to be handled");
  expect(await storedEvent(bad ?? "")).toMatchObject({ requeue_count: 0, enqueued_at: null, consumed_at: null });
  // The next pass tries it again; a send that never went through is never counted.
  await runCron(Date.now() + 122_000, { EVENTS: refusesBad });
  expect((await storedEvent(bad ?? ""))?.requeue_count).toBe(0);
});
