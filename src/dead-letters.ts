/**
 * The dead-letter queue's consumer. Two kinds of letter arrive on `okta-events-dlq`:
 * the consumer's own (`DeadLetter`: a body it can never use, with the reason), and
 * messages the events queue moved here itself after its last retry (the original body,
 * nothing else). Each is recorded in D1 (db/dead-letters.ts), where the API and the
 * dashboard list, re-drive and discard them.
 */
import { z } from "zod";
import { retryDelaySeconds } from "./consumer";
import { createDb } from "./db/client";
import { recordDeadLetters } from "./db/dead-letters";
import type { DeadLetterRow } from "./db/schema";
import { errorText, logError, logInfo } from "./log";

/** The dead-letter queue's name, as in wrangler.toml: index.ts routes its batches here. */
export const DEAD_LETTER_QUEUE = "okta-events-dlq";

/** The envelope consumer.ts puts around a body it rejects (queue/messages.ts `DeadLetter`). */
const ConsumerLetter = z.object({
  reason: z.string(),
  body: z.unknown(),
  messageId: z.string(),
  attempts: z.number().int(),
});

/** The reason recorded for a message the events queue moved here after its last retry. */
export const RETRIES_EXHAUSTED = "the consumer failed on every delivery attempt (max_retries reached)";

/** What to record for one dead-letter message (pure). */
export function letterRow(message: { id: string; body: unknown }, receivedAt: Date): DeadLetterRow {
  const own = ConsumerLetter.safeParse(message.body);
  const base = { id: message.id, receivedAt: receivedAt.toISOString(), redrivenAt: null };
  if (own.success) {
    const { reason, body, messageId, attempts } = own.data;
    return { ...base, reason, body: body ?? null, messageId, attempts };
  }
  return { ...base, reason: RETRIES_EXHAUSTED, body: message.body ?? null, messageId: null, attempts: null };
}

/**
 * Records a batch of letters in one D1 batch, then acks them; if D1 fails, every
 * letter is retried (recording is idempotent, so a partial earlier attempt is harmless).
 */
export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = new Date();
  const rows = batch.messages.map((message) => letterRow(message, now));
  try {
    await recordDeadLetters(createDb(env.DB), rows);
  } catch (err) {
    logError("dead letters not recorded; retrying", { count: rows.length, error: errorText(err) });
    for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  for (const row of rows) {
    logInfo("dead letter recorded", { letterId: row.id, messageId: row.messageId, reason: row.reason });
  }
  batch.ackAll();
}
