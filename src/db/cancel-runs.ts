/**
 * Cancel-on's write: ends a workflow version's active runs on one (source, asset) that
 * an event cancels, as statements for a D1 batch. Decided by one guarded UPDATE per
 * (event, workflow version), so it never ends a run that already ended, and it clears
 * the lease like a terminate: a consumer executing the run stops at its next write
 * (run-writes.ts names the status it expects). The runs_by_workflow_asset index finds
 * the candidates; the rest of the guard reads the run's own row and steps.
 */
import { and, asc, eq, gte, inArray, ne, sql } from "drizzle-orm";
import type { EventMessage } from "../queue/messages";
import type { Db } from "./client";
import { eventMessageOf } from "./event-rows";
import { selectEventsWithoutRaw } from "./events";
import { ACTIVE_STATUSES, cleanupAfter } from "./run-writes";
import { events, runSteps, runs } from "./schema";

/** An event that a workflow version's cancel-on rule matched (workflows/cancel-on.ts). */
export interface CancelMatch {
  workflowId: string;
  version: number;
  event: { uuid: string; eventDate: string; source: string | null; assetId: string };
}

/**
 * The statements that cancel what `match` cancels: the runs (RETURNING each with the
 * WaitRoom that may hold its wait, for the caller to cancel there), then the step each
 * was paused at or executing. A run is cancelled when it is of that workflow version,
 * on the event's asset and Okta org (the trigger's `source`; null for /hooks/okta),
 * running or waiting, and started by an event published no later than this one (the
 * same millisecond counts, as for waits) that is not this event. A run that already
 * took this event at a wait is left alone: whichever of the resume and the cancel D1
 * records first is the run's fate, never both.
 */
export function cancelRunsStatements(db: Db, match: CancelMatch, now: Date) {
  const at = now.toISOString();
  const { uuid, eventDate, source, assetId } = match.event;
  const cancel = db
    .update(runs)
    .set({
      status: "cancelled",
      cancelledBy: uuid,
      error: null,
      endedAt: at,
      updatedAt: at,
      waitingFor: null,
      notBefore: null,
      repairAfter: cleanupAfter(now),
      // The holder's next write names a status the run no longer has, and stops it.
      leaseUntil: null,
      leaseOwner: null,
      leaseMessage: null,
    })
    .where(
      and(
        eq(runs.workflowId, match.workflowId),
        eq(runs.assetId, assetId),
        inArray(runs.status, ACTIVE_STATUSES),
        eq(runs.workflowVersion, match.version),
        ne(runs.triggerEventUuid, uuid),
        sql`json_extract(${runs.trigger}, '$.source') IS ${source}`,
        sql`json_extract(${runs.trigger}, '$.eventDate') <= ${eventDate}`,
        sql`NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = ${runs.id} AND s.kind = 'event' AND json_extract(s.output, '$.eventUuid') = ${uuid})`,
      ),
    )
    .returning({ id: runs.id, waitRoom: runs.waitRoom });
  const endStep = db
    .update(runSteps)
    .set({ status: "terminated", endedAt: at })
    .where(
      and(
        inArray(runSteps.status, ["waiting", "running"]),
        sql`${runSteps.runId} IN (SELECT id FROM runs WHERE status = 'cancelled' AND cancelled_by = ${uuid} AND ended_at = ${at})`,
      ),
    );
  return [cancel, endStep] as const;
}

/** The runs a list of results of cancelRunsStatements pairs ended: the RETURNING of each pair's first statement. */
export function cancelledIn(results: readonly unknown[]): Array<{ id: string; waitRoom: string | null }> {
  return results.filter((_, i) => i % 2 === 0).flat() as Array<{ id: string; waitRoom: string | null }>;
}

/** How many stored events a new run's look-back reads; the filter is tested on these in order. */
export const LOOK_BACK_LIMIT = 50;

/**
 * Stored events that may cancel a run as it starts: on its (source, asset), of the
 * rule's types, published no earlier than its trigger, oldest first (events_by_asset_date).
 * They were delivered before the trigger (out of order) or in its batch; their own
 * consumer cancels the run too if it gets there later, and that write then ends nothing.
 * A backfilled event (stored store-only: never enqueued, consumed from the start) is not
 * one: like a resume, a cancel is for events delivered live (or replayed).
 */
export async function storedCancellers(db: Db, q: LookBack): Promise<EventMessage[]> {
  return (await lookBackQuery(db, q)).map(eventMessageOf);
}

export interface LookBack {
  assetId: string;
  source: string | null;
  types: readonly string[];
  since: string;
  except: string;
}

/** The look-back's query, apart so that a test can read its plan. */
export function lookBackQuery(db: Db, q: LookBack) {
  return selectEventsWithoutRaw(db)
    .where(
      and(
        eq(events.assetId, q.assetId),
        gte(events.eventDate, q.since),
        inArray(events.eventType, [...q.types]),
        // Unary + keeps SQLite off events_by_source_date: with source null (the single-org
        // hook) that index would read every event of the org, the asset index reads a few.
        sql`+${events.source} IS ${q.source}`,
        ne(events.uuid, q.except),
        eq(events.inCategory, true),
        // Not a backfilled (store-only) event: it starts and resumes nothing, and cancels nothing.
        sql`NOT (${events.enqueuedAt} IS NULL AND ${events.consumedAt} IS NOT NULL)`,
      ),
    )
    .orderBy(asc(events.eventDate), asc(events.uuid))
    .limit(LOOK_BACK_LIMIT);
}
