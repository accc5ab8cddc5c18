/** Sending to the events queue in batches of at most 100 messages. */
import type { EventMessage, RunMessage } from "./messages";

/** Cloudflare Queues accept at most 100 messages per sendBatch call. */
const MAX_BATCH = 100;

/**
 * Sends event messages, 100 per call. Throws on the first failed call and returns
 * nothing of what was sent before it: callers treat the whole set as unsent, and the
 * consumer tolerates a message that arrives twice.
 */
export async function enqueueEvents(queue: Queue, messages: readonly EventMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_BATCH) {
    const chunk = messages.slice(i, i + MAX_BATCH);
    await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
  }
}

/** Hands runs to the consumer, 100 per sendBatch call. */
export async function enqueueRuns(queue: Queue, runIds: readonly string[]): Promise<void> {
  for (let i = 0; i < runIds.length; i += MAX_BATCH) {
    const bodies: RunMessage[] = runIds.slice(i, i + MAX_BATCH).map((runId) => ({ kind: "run", runId }));
    await queue.sendBatch(bodies.map((body) => ({ body, contentType: "json" as const })));
  }
}
