/**
 * The queue consumer. `event` messages start the runs they trigger and resume the
 * runs waiting for them; a `run` message executes a run from where it stands; a
 * `resume` message ends a run's wait and executes it onwards. Every message is
 * settled explicitly: ack when done, retry with backoff on a transient failure, and a
 * body that can never be processed goes to the dead-letter queue with its reason.
 */
import pLimit from "p-limit";
import { createDb, type Db } from "./db/client";
import { advanceRun, resumeRun } from "./engine/advance-run";
import { routeEvents } from "./engine/route-events";
import {
  type DeadLetter,
  type EventMessage,
  QueueMessage,
  type ResumeMessage,
  type RunMessage,
} from "./queue/messages";
import { describeIssue } from "./validation";

/** Retry delay: 5 s, 10 s, 20 s, ... capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

interface Parsed<T> {
  message: Message<unknown>;
  body: T;
}

/**
 * Runs in one batch are independent (each is leased), so several execute at once: most
 * of a run's time is spent waiting on D1 and on the actions' HTTP calls. Six matches
 * the Workers limit on simultaneous open connections per invocation.
 */
const RUNS_IN_PARALLEL = 6;

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx?: ExecutionContext): Promise<void> {
  const db = createDb(env.DB);
  const events: Parsed<EventMessage>[] = [];
  const runs: Parsed<RunMessage | ResumeMessage>[] = [];
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success) {
      await deadLetter(env, message, `invalid message: ${describeIssue(parsed.error)}`);
    } else if (parsed.data.kind === "event") {
      events.push({ message, body: parsed.data });
    } else {
      runs.push({ message, body: parsed.data });
    }
  }
  const limit = pLimit(RUNS_IN_PARALLEL);
  await Promise.all([handleEvents(db, env, events), ...runs.map((run) => limit(() => handleRun(db, env, run)))]);
}

/**
 * Events are handled together; if that fails they are handled one by one, so that one
 * event that keeps failing cannot hold back the others in its batch.
 */
async function handleEvents(db: Db, env: Env, events: Parsed<EventMessage>[]): Promise<void> {
  if (events.length === 0) return;
  try {
    await routeEvents(
      db,
      env,
      events.map((event) => event.body),
      new Date(),
    );
  } catch (err) {
    if (events.length === 1 && events[0]) {
      retry(events[0].message, err);
      return;
    }
    console.error("event batch failed; handling its events one by one", { count: events.length, error: String(err) });
    for (const event of events) await handleEvents(db, env, [event]);
    return;
  }
  for (const event of events) event.message.ack();
}

async function handleRun(db: Db, env: Env, { message, body }: Parsed<RunMessage | ResumeMessage>): Promise<void> {
  try {
    const deps = { db, env, now: () => new Date() };
    const result = body.kind === "run" ? await advanceRun(deps, body.runId) : await resumeRun(deps, body);
    if (result.kind === "retry") {
      message.retry({ delaySeconds: result.delaySeconds });
      return;
    }
  } catch (err) {
    retry(message, err);
    return;
  }
  message.ack();
}

function retry(message: Message<unknown>, err: unknown): void {
  console.error("consumer step failed; retrying", { id: message.id, attempts: message.attempts, error: String(err) });
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
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
