/**
 * The cron trigger repairs what a failure left behind: events D1 holds that the
 * consumer never handled (the send failed after the delivery was stored, or the
 * message was lost), and runs whose messages were lost (see engine/repairs.ts).
 */
import { createDb } from "./db/client";
import { fieldsOf } from "./db/event-rows";
import { findStranded, markRequeued } from "./db/events";
import { repairRuns } from "./engine/repairs";
import { enqueueEach, eventMessageBody } from "./queue/enqueue";
import { applyRetention } from "./retention";

/** A send that failed is retried this soon (younger events may still be in their own delivery's send). */
const UNSENT_GRACE_MS = 60_000;
/** A sent event not handled after this long lost its message (the queue retried it into the dead-letter queue). */
const LOST_AFTER_MS = 15 * 60_000;
/** An event the consumer keeps failing on is re-sent this many times, then left for a human (it is logged). */
export const MAX_REQUEUES = 5;
const BATCH_LIMIT = 1000;

/**
 * Re-sends events D1 holds that the consumer has not handled and should have by now.
 * Each event is sent on its own if its batch fails, so one that cannot be sent does
 * not hold back the others; every attempt counts towards its limit.
 */
export async function reenqueueStranded(env: Env, now: Date): Promise<number> {
  const db = createDb(env.DB);
  const rows = await findStranded(db, {
    unsentBefore: new Date(now.getTime() - UNSENT_GRACE_MS),
    sentBefore: new Date(now.getTime() - LOST_AFTER_MS),
    maxRequeues: MAX_REQUEUES,
    limit: BATCH_LIMIT,
  });
  const failed = new Set(
    await enqueueEach(
      env.EVENTS,
      rows.map((row) => ({
        key: row.uuid,
        body: eventMessageBody({ kind: "event", uuid: row.uuid, inCategory: row.inCategory, fields: fieldsOf(row) }),
      })),
    ),
  );
  await markRequeued(
    db,
    rows.map((row) => ({ uuid: row.uuid, sent: !failed.has(row.uuid) })),
    now,
  );
  const givingUp = rows.filter((row) => row.requeueCount + 1 >= MAX_REQUEUES).map((row) => row.uuid);
  if (givingUp.length > 0) {
    console.error(JSON.stringify({ msg: "events re-sent for the last time; check the dead-letter queue", givingUp }));
  }
  if (rows.length > 0)
    console.log(JSON.stringify({ msg: "re-enqueued stranded events", count: rows.length, failed: failed.size }));
  return rows.length - failed.size;
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
  ]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
