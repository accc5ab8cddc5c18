/** Puts stored events on the events queue and records that they are there. */
import type { Db } from "../db/client";
import { markEnqueued } from "../db/events";
import type { EventMessage, RunMessage } from "./messages";

/** Cloudflare Queues accept at most 100 messages per sendBatch call. */
const MAX_BATCH = 100;

/**
 * Sends the messages in batches of 100 and marks each batch enqueued once sent.
 * Throws on the first failed batch; what was not marked is re-sent by the cron.
 * Consumers must tolerate a message sent twice (sent, then the mark failed).
 */
export async function enqueueEvents(db: Db, queue: Queue, messages: readonly EventMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += MAX_BATCH) {
    const chunk = messages.slice(i, i + MAX_BATCH);
    await queue.sendBatch(chunk.map((body) => ({ body, contentType: "json" as const })));
    await markEnqueued(
      db,
      chunk.map((message) => message.uuid),
      new Date(),
    );
  }
}

/** Hands runs to the consumer, 100 per sendBatch call. */
export async function enqueueRuns(queue: Queue, runIds: readonly string[]): Promise<void> {
  for (let i = 0; i < runIds.length; i += MAX_BATCH) {
    const bodies: RunMessage[] = runIds.slice(i, i + MAX_BATCH).map((runId) => ({ kind: "run", runId }));
    await queue.sendBatch(bodies.map((body) => ({ body, contentType: "json" as const })));
  }
}
