/** Sending to the events queue: batches of at most 100 messages, none over the size limit. */
import type { EventMessage, EventRefMessage, QueueMessage, RunMessage } from "./messages";

/** Cloudflare Queues accept at most 100 messages, and 256 KB, per sendBatch call. */
const MAX_BATCH = 100;
const MAX_BATCH_BYTES = 200_000;
/** A message may be at most 128 KB; an event over this goes by reference (the consumer reads D1). */
const MAX_EVENT_BYTES = 100_000;

const encoder = new TextEncoder();
/** Outside printable ASCII: JSON.stringify escapes control characters, so a text without these has one byte a character. */
const NOT_PRINTABLE_ASCII = /[^ -~]/;

/** A body's size as JSON in UTF-8; encoded only when it is not all ASCII (most messages are). */
function bytesOf(body: unknown): number {
  const text = JSON.stringify(body);
  return NOT_PRINTABLE_ASCII.test(text) ? encoder.encode(text).length : text.length;
}

/** A stored event's message and its size, measured once: the hook sends up to 100 a delivery. */
function sizedEventMessage(message: EventMessage): { body: EventMessage | EventRefMessage; bytes: number } {
  const bytes = bytesOf(message);
  if (bytes <= MAX_EVENT_BYTES) return { body: message, bytes };
  const ref: EventRefMessage = { kind: "event-ref", uuid: message.uuid };
  return { body: ref, bytes: bytesOf(ref) };
}

/** The message for a stored event: its fields, or a reference when they would not fit. */
export function eventMessageBody(message: EventMessage): EventMessage | EventRefMessage {
  return sizedEventMessage(message).body;
}

/** Splits bodies into sendBatch calls by count and bytes (`size` of each, measured when not given). */
function chunks<T>(bodies: readonly T[], sizeOf: (body: T) => number = bytesOf): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = sizeOf(body);
    if (current.length > 0 && (current.length >= MAX_BATCH || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Sends event messages. Throws on the first failed call: callers treat the whole set
 * as unsent, and the consumer tolerates a message that arrives twice.
 */
export async function enqueueEvents(queue: Queue, messages: readonly EventMessage[]): Promise<void> {
  for (const chunk of chunks(messages.map(sizedEventMessage), (sized) => sized.bytes)) {
    await queue.sendBatch(chunk.map(({ body }) => ({ body, contentType: "json" as const })));
  }
}

/**
 * Sends each message even when some fail: a batch that fails is retried one message at
 * a time, so one bad message cannot hold back the others. Returns the keys of the
 * messages that could not be sent.
 */
export async function enqueueEach<T extends QueueMessage>(
  queue: Queue,
  items: ReadonlyArray<{ key: string; body: T; delaySeconds?: number }>,
): Promise<string[]> {
  const failed: string[] = [];
  for (const chunk of chunks(items)) {
    const request = (item: (typeof chunk)[number]) => ({
      body: item.body,
      contentType: "json" as const,
      delaySeconds: item.delaySeconds,
    });
    try {
      await queue.sendBatch(chunk.map(request));
    } catch {
      for (const item of chunk) {
        await queue.send(item.body, { contentType: "json", delaySeconds: item.delaySeconds }).catch((err: unknown) => {
          console.error(JSON.stringify({ msg: "queue send failed", key: item.key, error: String(err) }));
          failed.push(item.key);
        });
      }
    }
  }
  return failed;
}

/** Hands runs back to the consumer after a delay (a deferred action), 100 per call. */
export async function enqueueLater(
  queue: Queue,
  runs: ReadonlyArray<{ runId: string; delaySeconds: number }>,
): Promise<void> {
  for (const chunk of chunks(runs)) {
    await queue.sendBatch(
      chunk.map(({ runId, delaySeconds }) => ({
        body: { kind: "run", runId } satisfies RunMessage,
        contentType: "json" as const,
        delaySeconds: Math.min(12 * 3600, delaySeconds),
      })),
    );
  }
}

/** Hands runs to the consumer now, 100 per call. */
export async function enqueueRuns(queue: Queue, runIds: readonly string[]): Promise<void> {
  await enqueueLater(
    queue,
    runIds.map((runId) => ({ runId, delaySeconds: 0 })),
  );
}
