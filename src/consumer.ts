/**
 * The queue consumer. An `event` message starts the runs it triggers and resumes the
 * runs waiting for it; a `run` message executes a run from where it stands; a
 * `resume` message ends a run's wait and executes it onwards. Each
 * message is settled on its own: ack when done, retry with backoff on a transient
 * failure, and a body that can never be processed goes to the dead-letter queue
 * with its reason.
 */
import { createDb, type Db } from "./db/client";
import { markConsumed } from "./db/events";
import { waitRoomFor } from "./durable/wait-rooms";
import { advanceRun, resumeRun } from "./engine/advance-run";
import { startRunsForEvent } from "./engine/start-runs";
import { enqueueRuns } from "./queue/enqueue";
import { type DeadLetter, type EventMessage, QueueMessage } from "./queue/messages";
import { describeIssue } from "./validation";

/** Retry delay: 5 s, 10 s, 20 s, ... capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx?: ExecutionContext): Promise<void> {
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
  const body = parsed.data;
  try {
    if (body.kind === "event") {
      await handleEvent(db, env, body);
    } else {
      const deps = { db, env, now: () => new Date() };
      const result = body.kind === "run" ? await advanceRun(deps, body.runId) : await resumeRun(deps, body);
      if (result.kind === "retry") {
        message.retry({ delaySeconds: result.delaySeconds });
        return;
      }
    }
  } catch (err) {
    console.error("consumer step failed; retrying", { id: message.id, attempts: message.attempts, error: String(err) });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  message.ack();
}

/**
 * Starts the runs a category event triggers, then gives the event to its asset's
 * WaitRoom, which resumes the runs waiting for it. Safe to repeat: runs start once
 * per (workflow, event) and the WaitRoom ignores an event it has seen.
 */
async function handleEvent(db: Db, env: Env, message: EventMessage): Promise<void> {
  if (message.inCategory) {
    const runIds = await startRunsForEvent(db, message, new Date());
    await enqueueRuns(env.EVENTS, runIds);
    if (message.fields.id) {
      await waitRoomFor(env, message.fields.id).deliver({ uuid: message.uuid, fields: message.fields });
    }
  }
  await markConsumed(db, message.uuid, new Date());
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
