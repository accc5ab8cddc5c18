/**
 * The cron trigger repairs what a failure left behind: events D1 holds that the
 * consumer never handled (the send failed after the delivery was stored, or the
 * message was lost), and runs whose messages were lost (see engine/repairs.ts). It
 * also applies retention and deletes ended dashboard sessions.
 */
import { createDb } from "./db/client";
import { eventMessageOf } from "./db/event-rows";
import { abandonEvents, findStranded, markRequeued } from "./db/events";
import type { DeadLetterRow } from "./db/schema";
import { deleteEndedSessions, tokenHash } from "./db/sessions";
import { repairRuns } from "./engine/repairs";
import { logError } from "./log";
import { enqueueEach, eventMessageBody } from "./queue/enqueue";
import { applyRetention } from "./retention";

/** A send that failed is retried this soon (younger events may still be in their own delivery's send). */
const UNSENT_GRACE_MS = 60_000;
/** A sent event not handled after this long lost its message (the queue retried it into the dead-letter queue). */
const LOST_AFTER_MS = 15 * 60_000;
/**
 * An event the consumer never handles is re-sent this many times (sends that went
 * through; failed sends do not count), then recorded as a dead letter for a human.
 */
export const MAX_REQUEUES = 5;
const BATCH_LIMIT = 1000;

/**
 * Re-sends events D1 holds that the consumer has not handled and should have by now.
 * Each event is sent on its own if its batch fails, so one that cannot be sent does
 * not hold back the others. An event sent MAX_REQUEUES times and still not handled is
 * given up on, never silently: it becomes a dead letter (with its message, to re-drive)
 * and is no longer scanned.
 */
export async function reenqueueStranded(env: Env, now: Date): Promise<number> {
  const db = createDb(env.DB);
  const rows = await findStranded(db, {
    unsentBefore: new Date(now.getTime() - UNSENT_GRACE_MS),
    sentBefore: new Date(now.getTime() - LOST_AFTER_MS),
    limit: BATCH_LIMIT,
  });
  const message = (row: (typeof rows)[number]) => eventMessageBody(eventMessageOf(row));
  const spent = rows.filter((row) => row.requeueCount >= MAX_REQUEUES);
  const resend = rows.filter((row) => row.requeueCount < MAX_REQUEUES);
  if (spent.length > 0) {
    await abandonEvents(
      db,
      spent.map((row) => ({ uuid: row.uuid, letter: abandonedLetter(row.uuid, message(row), row.requeueCount, now) })),
      now,
    );
    logError("events given up on after their last re-send; recorded as dead letters", {
      uuids: spent.map((row) => row.uuid),
    });
  }
  const failed = new Set(
    await enqueueEach(
      env.EVENTS,
      resend.map((row) => ({ key: row.uuid, body: message(row) })),
    ),
  );
  await markRequeued(
    db,
    resend.map((row) => ({ uuid: row.uuid, sent: !failed.has(row.uuid) })),
    now,
  );
  if (resend.length > 0) {
    console.log(JSON.stringify({ msg: "re-enqueued stranded events", count: resend.length, failed: failed.size }));
  }
  return resend.length - failed.size;
}

/** The dead letter of an event the cron gave up on: its message, to re-drive from the dashboard or API. */
export function abandonedLetter(uuid: string, body: unknown, sends: number, now: Date): DeadLetterRow {
  return {
    id: `abandoned:${uuid}`,
    reason: `the cron re-sent this event ${sends} times and the consumer never recorded it handled; re-drive it once the cause is fixed`,
    body,
    messageId: null,
    attempts: sends,
    receivedAt: now.toISOString(),
    redrivenAt: null,
  };
}

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx?: ExecutionContext,
): Promise<void> {
  const now = new Date(controller.scheduledTime);
  // Every task runs even if another fails; the cron reports the first failure.
  const results = await Promise.allSettled([
    reenqueueStranded(env, now),
    repairRuns(createDb(env.DB), env, now),
    applyRetention(createDb(env.DB), env, now),
    // Whatever RETENTION_DAYS says: expired, idle, and made under a previous ADMIN_TOKEN.
    tokenHash(env.ADMIN_TOKEN).then((hash) => deleteEndedSessions(createDb(env.DB), hash, now)),
  ]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
