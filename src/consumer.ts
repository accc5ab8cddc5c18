/**
 * The queue consumer. For now it validates each message and records that the event
 * reached the consumer; the workflow engine plugs in here. Each message is settled
 * on its own: ack when done, retry with backoff on a transient failure, and a body
 * that can never be processed goes to the dead-letter queue with its reason.
 */
import { createDb, type Db } from "./db/client";
import { markConsumed } from "./db/events";
import { describeIssue } from "./okta/envelope";
import { type DeadLetter, QueueMessage } from "./queue/messages";

/** Retry delay: 5 s, 10 s, 20 s, ... capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  for (const message of batch.messages) {
    await handleMessage(db, env, message);
  }
}

async function handleMessage(db: Db, env: Env, message: Message<unknown>): Promise<void> {
  const parsed = QueueMessage.safeParse(message.body);
  if (!parsed.success) {
    await deadLetter(env, message, `invalid message: ${describeIssue(parsed.error)}`);
    return;
  }
  try {
    await markConsumed(db, parsed.data.uuid, new Date());
  } catch (err) {
    console.error("consumer step failed; retrying", { id: message.id, attempts: message.attempts, error: String(err) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  message.ack();
}

/** Moves a message that can never succeed to the dead-letter queue; if that fails, the message is retried. */
async function deadLetter(env: Env, message: Message<unknown>, reason: string): Promise<void> {
  const letter: DeadLetter = { reason, body: message.body, messageId: message.id, attempts: message.attempts };
  try {
    await env.DEAD_LETTERS.send(letter, { contentType: "json" });
  } catch (err) {
    console.error("dead-letter send failed; retrying", { id: message.id, error: String(err) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  console.warn("message dead-lettered", { id: message.id, reason });
  message.ack();
}
