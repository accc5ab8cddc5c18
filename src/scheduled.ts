/**
 * The cron trigger repairs what a failure left behind: events D1 holds that the
 * consumer never handled (the send failed after the delivery was stored, or the
 * message was lost), and running runs that no message carries any more.
 */
import { createDb } from "./db/client";
import { fieldsOf } from "./db/event-rows";
import { findStranded, markRequeued } from "./db/events";
import { findStalledRuns } from "./db/runs";
import { enqueueEvents, enqueueRuns } from "./queue/enqueue";

/** A send that failed is retried this soon (younger events may still be in their own delivery's send). */
const UNSENT_GRACE_MS = 60_000;
/** A sent event not handled after this long lost its message (the queue retried it into the dead-letter queue). */
const LOST_AFTER_MS = 15 * 60_000;
/** An event the consumer keeps failing on is re-sent this many times, then left for a human (it is logged). */
export const MAX_REQUEUES = 5;
const BATCH_LIMIT = 1000;

/** Re-sends events D1 holds that the consumer has not handled and should have by now. */
export async function reenqueueStranded(env: Env, now: Date): Promise<number> {
  const db = createDb(env.DB);
  const rows = await findStranded(db, {
    unsentBefore: new Date(now.getTime() - UNSENT_GRACE_MS),
    sentBefore: new Date(now.getTime() - LOST_AFTER_MS),
    maxRequeues: MAX_REQUEUES,
    limit: BATCH_LIMIT,
  });
  await enqueueEvents(
    env.EVENTS,
    rows.map((row) => ({ kind: "event", uuid: row.uuid, inCategory: row.inCategory, fields: fieldsOf(row) })),
  );
  await markRequeued(
    db,
    rows.map((row) => row.uuid),
    now,
  );
  const givingUp = rows.filter((row) => row.requeueCount + 1 >= MAX_REQUEUES).map((row) => row.uuid);
  if (givingUp.length > 0) console.error("events re-sent for the last time; check the dead-letter queue", { givingUp });
  if (rows.length > 0) console.log("re-enqueued stranded events", { count: rows.length });
  return rows.length;
}

/** A running run untouched this long, and not leased, has lost its message. */
const STALLED_AFTER_MS = 15 * 60_000;

/** Hands stalled runs back to the consumer; executing a run again is safe (leases, recorded steps). */
export async function resumeStalledRuns(env: Env, now: Date): Promise<number> {
  const ids = await findStalledRuns(createDb(env.DB), now, new Date(now.getTime() - STALLED_AFTER_MS), BATCH_LIMIT);
  await enqueueRuns(env.EVENTS, ids);
  if (ids.length > 0) console.log("re-enqueued stalled runs", { count: ids.length });
  return ids.length;
}

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx?: ExecutionContext,
): Promise<void> {
  const now = new Date(controller.scheduledTime);
  // Both repairs run even if one fails; the cron reports the first failure.
  const results = await Promise.allSettled([reenqueueStranded(env, now), resumeStalledRuns(env, now)]);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}
