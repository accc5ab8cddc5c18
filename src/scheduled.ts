/**
 * The cron trigger: re-enqueues events that D1 holds but the queue never took
 * (the queue send failed after the delivery was stored).
 */
import { createDb } from "./db/client";
import { fieldsOf } from "./db/event-rows";
import { findStranded } from "./db/events";
import { enqueueEvents } from "./queue/enqueue";

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

export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx?: ExecutionContext,
): Promise<void> {
  await reenqueueStranded(env, new Date(controller.scheduledTime));
}
