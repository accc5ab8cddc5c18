/**
 * The cron trigger repairs what a failure left behind: events D1 holds that the
 * queue never took (the send failed after the delivery was stored), and running
 * runs that no message is carrying any more (the queue gave up on them).
 */
import { createDb } from "./db/client";
import { fieldsOf } from "./db/event-rows";
import { findStranded } from "./db/events";
import { findStalledRuns } from "./db/runs";
import { enqueueEvents, enqueueRuns } from "./queue/enqueue";

/** Events younger than this may still be in their delivery's own enqueue step. */
const GRACE_MS = 60_000;
const BATCH_LIMIT = 1000;

export async function reenqueueStranded(env: Env, now: Date): Promise<number> {
  const db = createDb(env.DB);
  const rows = await findStranded(db, new Date(now.getTime() - GRACE_MS), BATCH_LIMIT);
  await enqueueEvents(
    db,
    env.EVENTS,
    rows.map((row) => ({ kind: "event", uuid: row.uuid, inCategory: row.inCategory, fields: fieldsOf(row) })),
  );
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
