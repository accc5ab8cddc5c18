/**
 * Suppression in D1. Starting a run that a workflow may suppress is three statements in
 * the batch that starts runs (db/runs.ts), run in order inside its one transaction, so
 * two events at once, two consumers and a redelivered event all see one decision:
 *
 * 1. take the slot: insert it, or take over one whose window has ended or whose run
 *    failed. Never for an event whose fate for this workflow is already decided (it
 *    started a run, or was suppressed): a redelivery changes nothing.
 * 2. insert the run only if the slot now names it (this event took the slot).
 * 3. otherwise record the event as suppressed by the slot's run, once per (workflow,
 *    event), unless the event itself started a run (a redelivery of the one that fired).
 */
import { and, asc, count, desc, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { readScope, type SuppressionSlot } from "../workflows/suppression";
import type { Db } from "./client";
import { inJson } from "./in-json";
import { runs, suppressedEvents, suppressions } from "./schema";

type RunValues = typeof runs.$inferInsert;

/** The row of the workflow's slot for this scope (held by whichever run took it last). */
function slotOf(run: RunValues, slot: SuppressionSlot) {
  return and(eq(suppressions.workflowId, run.workflowId), eq(suppressions.scope, slot.scope));
}

/**
 * The slot's run failed: its window is over (the alert it held matches back for was never
 * sent), whatever its `until` says. Taking the slot and the dry run's open window agree on it.
 */
const slotRunFailed = sql`exists (select 1 from ${runs} where ${runs.id} = ${suppressions.runId} and ${runs.status} = 'failed')`;

/** The event already has its outcome for this workflow: a run, or a suppressed match. */
function decided(run: RunValues) {
  return sql`(exists (select 1 from ${runs} where ${runs.workflowId} = ${run.workflowId} and ${runs.triggerEventUuid} = ${run.triggerEventUuid})
    or exists (select 1 from ${suppressedEvents} where ${suppressedEvents.workflowId} = ${run.workflowId} and ${suppressedEvents.eventUuid} = ${run.triggerEventUuid}))`;
}

/**
 * The statements that start `run` unless its slot's window is open; the last one returns
 * the run if it started. `at` is the batch's time: windows are counted from when the run
 * starts, not from the event's published time, so a late event cannot reopen the past.
 */
export function suppressibleStart(db: Db, run: RunValues, slot: SuppressionSlot, at: Date) {
  const now = at.toISOString();
  const until = new Date(at.getTime() + slot.forSeconds * 1000).toISOString();
  const take = db
    .insert(suppressions)
    .select(
      sql`select ${run.workflowId}, ${slot.scope}, ${run.id}, ${run.triggerEventUuid}, ${now}, ${until} where not ${decided(run)}`,
    )
    .onConflictDoUpdate({
      target: [suppressions.workflowId, suppressions.scope],
      set: {
        runId: sql`excluded.run_id`,
        eventUuid: sql`excluded.event_uuid`,
        startedAt: sql`excluded.started_at`,
        until: sql`excluded.until`,
      },
      // A window ends at `until`, or when its run failed: the alert it held back others for
      // was never sent, so the next match must not be suppressed.
      setWhere: sql`(${suppressions.until} <= excluded.started_at
        or ${slotRunFailed})`,
    });
  // Every column of `runs` in table order, each bound as the column encodes it (JSON as text).
  const columns = Object.entries(getTableColumns(runs)).map(([name, column]) => {
    const value: unknown = Reflect.get(run, name);
    return value === undefined || value === null ? sql`null` : sql`${sql.param(value, column)}`;
  });
  const start = db
    .insert(runs)
    .select(
      sql`select ${sql.join(columns, sql`, `)} from ${suppressions} where ${slotOf(run, slot)} and ${suppressions.runId} = ${run.id}`,
    )
    .onConflictDoNothing()
    .returning();
  const record = db
    .insert(suppressedEvents)
    .select(
      sql`select ${run.workflowId}, ${run.triggerEventUuid}, ${suppressions.runId}, ${now} from ${suppressions}
        where ${slotOf(run, slot)} and ${suppressions.runId} <> ${run.id}
          and not exists (select 1 from ${runs} where ${runs.workflowId} = ${run.workflowId} and ${runs.triggerEventUuid} = ${run.triggerEventUuid})`,
    )
    .onConflictDoNothing();
  return { take, start, record };
}

/** How many suppressed matches a run shows, at most this many listed. */
export const LISTED_SUPPRESSED = 100;

export interface RunSuppression {
  /** Matches suppressed in this run's window(s). */
  count: number;
  /** The first LISTED_SUPPRESSED of them, oldest first. */
  events: Array<{ eventUuid: string; suppressedAt: string }>;
  /**
   * While the run still holds its slot: the key and until when matches are suppressed
   * (maybe past). Null once another run took the slot, the window was deleted, or the run
   * failed (its window no longer holds anything back).
   */
  window: { source: string | null; key: string; until: string } | null;
}

/** What suppression did for one run, in one round trip. */
export async function suppressionOfRun(db: Db, run: { id: string; status: string }): Promise<RunSuppression> {
  const runId = run.id;
  const [[total], events, slots] = await db.batch([
    db.select({ n: count() }).from(suppressedEvents).where(eq(suppressedEvents.runId, runId)),
    db
      .select({ eventUuid: suppressedEvents.eventUuid, suppressedAt: suppressedEvents.suppressedAt })
      .from(suppressedEvents)
      .where(eq(suppressedEvents.runId, runId))
      .orderBy(asc(suppressedEvents.suppressedAt), asc(suppressedEvents.eventUuid))
      .limit(LISTED_SUPPRESSED),
    db
      .select({ scope: suppressions.scope, until: suppressions.until })
      .from(suppressions)
      .where(eq(suppressions.runId, runId)),
  ]);
  const [slot] = slots;
  const scope = slot ? readScope(slot.scope) : null;
  return {
    count: total?.n ?? 0,
    events,
    window: slot && scope && run.status !== "failed" ? { ...scope, until: slot.until } : null,
  };
}

/**
 * The window open for this workflow and scope at `now`, if any: what a match now would be
 * counted on (for the editor's dry run; the engine decides in startRuns). Read-only.
 */
export async function openWindow(db: Db, workflowId: string, scope: string, now: Date) {
  const [open] = await db
    .select({ runId: suppressions.runId, until: suppressions.until })
    .from(suppressions)
    .where(
      and(
        eq(suppressions.workflowId, workflowId),
        eq(suppressions.scope, scope),
        sql`${suppressions.until} > ${now.toISOString()}`,
        sql`not ${slotRunFailed}`,
      ),
    );
  return open ?? null;
}

/** The runs this event was counted on as a suppressed match (one per workflow), newest first. */
export async function suppressedBy(db: Db, eventUuid: string) {
  return db
    .select({ run: getTableColumns(runs), suppressedAt: suppressedEvents.suppressedAt })
    .from(suppressedEvents)
    .innerJoin(runs, eq(runs.id, suppressedEvents.runId))
    .where(eq(suppressedEvents.eventUuid, eventUuid))
    .orderBy(desc(suppressedEvents.suppressedAt));
}

/** How many matches each of these runs suppressed (runs with none are absent), in one query. */
export async function suppressedCounts(db: Db, runIds: readonly string[]): Promise<Map<string, number>> {
  if (runIds.length === 0) return new Map();
  const rows = await db
    .select({ runId: suppressedEvents.runId, n: count() })
    .from(suppressedEvents)
    .where(inJson(suppressedEvents.runId, runIds))
    .groupBy(suppressedEvents.runId);
  return new Map(rows.map((row) => [row.runId, row.n]));
}

/** Deletes up to `limit` slots whose window ended before `now`; returns how many. */
export async function deleteEndedWindows(db: Db, now: Date, limit: number): Promise<number> {
  const result = await db.run(sql`
    delete from ${suppressions} where rowid in (
      select rowid from ${suppressions} where ${suppressions.until} < ${now.toISOString()} order by ${suppressions.until} limit ${limit})`);
  return result.meta.changes;
}

/** The statement deleting the suppressed matches of runs being deleted (retention). */
export function deleteSuppressedOf(db: Db, where: SQL) {
  return db.delete(suppressedEvents).where(where);
}
