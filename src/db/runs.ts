/** Queries on runs and their steps. Every verb takes `db` first; state changes are guarded by status. */
import { and, asc, desc, eq, getTableColumns, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { EventFields } from "../okta/event-fields";
import type { SuppressionSlot } from "../workflows/suppression";
import type { CountedEvents } from "../workflows/threshold";
import { type CancelMatch, cancelledIn, cancelRunsStatements } from "./cancel-runs";
import type { Db } from "./client";
import { markConsumed } from "./events";
import { inJson } from "./in-json";
import { olderThan } from "./keyset";
import { ACTIVE_STATUSES, cleanupAfter, STALLED_AFTER_MS, unheld } from "./run-writes";
import { type RunRow, type RunStatus, runSteps, runs } from "./schema";
import { suppressibleStart } from "./suppressions";

export { ACTIVE_STATUSES } from "./run-writes";

export interface NewRun {
  id: string;
  /** The queue message (its trigger's) the new run is leased for: a retry of it takes the lease back. */
  leaseMessage: string;
  workflowId: string;
  workflowVersion: number;
  triggerEventUuid: string;
  trigger: EventFields;
  /** For a run a threshold started: what it counted. */
  counted?: CountedEvents | null;
  assetId: string | null;
  /** The workflow suppresses repeats of this key: the run starts only if no window of it is open. */
  suppression?: SuppressionSlot | null;
}

/** Who takes leases: the owner token of this attempt, and the message each run is taken for. */
export interface LeaseTaker {
  owner: string;
  /** Run id -> the id of the queue message this attempt handles the run for. */
  messageOf: ReadonlyMap<string, string>;
}

/**
 * The message a run is taken for, looked up in a JSON object by the run's `column`
 * ("runs"."…" qualified: json_each has an `id` column of its own).
 */
function messageFor(messages: string, column: "id" | "trigger_event_uuid") {
  return sql`(SELECT value FROM json_each(${messages}) WHERE key = ${sql.raw(`"runs"."${column}"`)})`;
}

/**
 * A lease this taker may take: nobody holds it (never leased, released, expired), or
 * it was taken for the very message this taker handles again (an earlier attempt of it
 * failed or died): a retry need not wait out its own lease.
 */
function takeable(owner: string, messages: string, column: "id" | "trigger_event_uuid", at: string) {
  return or(
    isNull(runs.leaseUntil),
    lt(runs.leaseUntil, at),
    sql`(${runs.leaseOwner} IS NOT ${owner} AND ${runs.leaseMessage} = ${messageFor(messages, column)})`,
  );
}

/**
 * Starts runs idempotently, one per (workflow, triggering event), leased to the caller,
 * and in the same D1 transaction records `consumed` events as handled (so an event is
 * consumed exactly when its runs exist). A run with a `suppression` slot starts only if
 * its event takes the slot, else the event is recorded as suppressed by the slot's run,
 * in the same transaction (db/suppressions.ts). Also leases the still-running runs of these
 * events that a crashed consumer left behind. `cancels` (cancel-on, db/cancel-runs.ts)
 * apply after the inserts, in the same transaction: a run started by one event of a
 * batch and cancelled by a later one of it ends `cancelled` before it takes a step, and
 * an event is consumed only with its cancels. Returns the runs the caller now holds
 * (`fresh` ones have no steps yet) and those `cancels` ended.
 */
export async function startRuns(
  db: Db,
  newRuns: readonly NewRun[],
  consumed: readonly string[],
  now: Date,
  leaseUntil: Date,
  taker: { owner: string; messageOfTrigger: ReadonlyMap<string, string> },
  cancels: readonly CancelMatch[] = [],
): Promise<{ fresh: RunRow[]; resumed: RunRow[]; cancelled: Array<{ id: string; waitRoom: string | null }> }> {
  const at = now.toISOString();
  const values = newRuns.map(({ suppression: _slot, ...run }) => ({
    ...run,
    status: "running" as const,
    startedAt: at,
    updatedAt: at,
    leaseUntil: leaseUntil.toISOString(),
    leaseOwner: taker.owner,
    repairAfter: new Date(now.getTime() + STALLED_AFTER_MS).toISOString(),
  }));
  const triggers = [...new Set(newRuns.map((run) => run.triggerEventUuid))];
  // Before the inserts, so it finds only runs an earlier delivery started. A run an
  // earlier attempt of the same event message left leased is taken back at once.
  const triggerMessages = JSON.stringify(Object.fromEntries(taker.messageOfTrigger));
  const leftBehind = db
    .update(runs)
    .set({
      leaseUntil: leaseUntil.toISOString(),
      leaseOwner: taker.owner,
      leaseMessage: messageFor(triggerMessages, "trigger_event_uuid"),
    })
    .where(
      and(
        inJson(runs.triggerEventUuid, triggers),
        eq(runs.status, "running"),
        takeable(taker.owner, triggerMessages, "trigger_event_uuid", at),
      ),
    )
    .returning();
  // One bound parameter per column; stay under D1's 100 parameters per statement.
  const plain = values.filter((_, i) => !newRuns[i]?.suppression);
  const perInsert = Math.floor(100 / Object.keys(getTableColumns(runs)).length);
  const inserts = [];
  for (let i = 0; i < plain.length; i += perInsert) {
    inserts.push(
      db
        .insert(runs)
        .values(plain.slice(i, i + perInsert))
        .onConflictDoNothing()
        .returning(),
    );
  }
  // In the order of newRuns: of two matches with one key in this batch, the first fires.
  const suppressible = values.flatMap((run, i) => {
    const slot = newRuns[i]?.suppression;
    if (!slot) return [];
    const { take, start, record } = suppressibleStart(db, run, slot, now);
    return [take, start, record] as const;
  });
  const cancelling = cancels.flatMap((match) => cancelRunsStatements(db, match, now));
  const [resumed, ...rest] = await db.batch([
    leftBehind,
    ...inserts,
    ...suppressible,
    ...cancelling,
    ...markConsumed(db, consumed, now),
  ]);
  const started = rest.slice(inserts.length, inserts.length + suppressible.length).filter((_, i) => i % 3 === 1);
  const afterStarts = inserts.length + suppressible.length;
  const cancelled = cancelledIn(rest.slice(afterStarts, afterStarts + cancelling.length));
  const gone = new Set(cancelled.map((run) => run.id));
  const fresh = ([...rest.slice(0, inserts.length), ...started].flat() as RunRow[]).filter((run) => !gone.has(run.id));
  return { fresh, resumed: resumed.filter((run) => !gone.has(run.id)), cancelled };
}

export async function getRun(db: Db, id: string) {
  return db.select().from(runs).where(eq(runs.id, id)).get();
}

/**
 * Takes these runs for `taker` until `until`, so that two deliveries never execute a
 * run at once, and returns them as they stand. Runs another attempt holds, or ended,
 * are not returned.
 */
export async function leaseRuns(db: Db, taker: LeaseTaker, now: Date, until: Date): Promise<RunRow[]> {
  const ids = [...taker.messageOf.keys()];
  if (ids.length === 0) return [];
  const messages = JSON.stringify(Object.fromEntries(taker.messageOf));
  return db
    .update(runs)
    .set({
      leaseUntil: until.toISOString(),
      leaseOwner: taker.owner,
      leaseMessage: messageFor(messages, "id"),
    })
    .where(
      and(
        inJson(runs.id, ids),
        inArray(runs.status, ACTIVE_STATUSES),
        takeable(taker.owner, messages, "id", now.toISOString()),
      ),
    )
    .returning();
}

/** The current state of runs (those a lease attempt did not return: leased elsewhere, or ended). */
export async function getRuns(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .select({ id: runs.id, status: runs.status, leaseUntil: runs.leaseUntil })
    .from(runs)
    .where(inJson(runs.id, ids));
}

/**
 * Terminates active runs in one statement, so no pause can slip between reading a
 * run's wait and ending it; returns those it ended with the WaitRoom that may hold
 * their wait (the caller cancels it there; the cron retries a cancel that failed).
 */
export async function terminateRuns(db: Db, where: { runId?: string; workflowId?: string }, now: Date) {
  const at = now.toISOString();
  const scope = and(
    where.runId ? eq(runs.id, where.runId) : undefined,
    where.workflowId ? eq(runs.workflowId, where.workflowId) : undefined,
    inArray(runs.status, ACTIVE_STATUSES),
  );
  const [ended] = await db.batch([
    db
      .update(runs)
      .set({
        status: "terminated",
        endedAt: at,
        updatedAt: at,
        waitingFor: null,
        notBefore: null,
        error: "terminated by an admin",
        repairAfter: cleanupAfter(now),
        // The holder's next write names a status the run no longer has, and stops it.
        leaseUntil: null,
        leaseOwner: null,
        leaseMessage: null,
      })
      .where(scope)
      .returning({ id: runs.id, waitRoom: runs.waitRoom }),
    // The step a run was paused at (or executing) ends with it.
    db
      .update(runSteps)
      .set({ status: "terminated", endedAt: at })
      .where(
        and(
          inArray(runSteps.status, ["waiting", "running"]),
          sql`${runSteps.runId} IN (SELECT id FROM runs WHERE status = 'terminated' AND ended_at = ${at})`,
        ),
      ),
  ]);
  return ended;
}

export async function countActiveRuns(db: Db, workflowId: string): Promise<number> {
  const row = await db
    .select({ count: sql<number>`count(*)` })
    .from(runs)
    .where(and(eq(runs.workflowId, workflowId), inArray(runs.status, ACTIVE_STATUSES)))
    .get();
  return row?.count ?? 0;
}

export async function listSteps(db: Db, runId: string) {
  return db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.seq));
}

/** The recorded steps of several runs, in one query. */
export async function listStepsOf(db: Db, runIds: readonly string[]) {
  if (runIds.length === 0) return [];
  return db
    .select()
    .from(runSteps)
    .where(inJson(runSteps.runId, runIds))
    .orderBy(asc(runSteps.runId), asc(runSteps.seq));
}

export interface RunQuery {
  workflowId?: string;
  status?: RunStatus;
  assetId?: string;
  since?: string;
  until?: string;
  after?: { startedAt: string; id: string };
  limit: number;
}

/** Runs newest first, filtered, one page at a time. */
export async function listRuns(db: Db, query: RunQuery) {
  return db
    .select()
    .from(runs)
    .where(
      and(
        query.workflowId ? eq(runs.workflowId, query.workflowId) : undefined,
        query.status ? eq(runs.status, query.status) : undefined,
        query.assetId ? eq(runs.assetId, query.assetId) : undefined,
        query.since ? gte(runs.startedAt, query.since) : undefined,
        query.until ? lte(runs.startedAt, query.until) : undefined,
        olderThan(runs.startedAt, runs.id, query.after && { time: query.after.startedAt, id: query.after.id }),
      ),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(query.limit);
}

/** Runs the cron should look at now (see `repairAfter`), not leased, oldest first. */
export async function findRunsToRepair(db: Db, now: Date, limit: number) {
  const at = now.toISOString();
  return db
    .select()
    .from(runs)
    .where(and(lt(runs.repairAfter, at), unheld(now)))
    .orderBy(runs.repairAfter)
    .limit(limit);
}

/** The cron has handled these runs for now: look at each again at its time. */
export async function scheduleRepairs(db: Db, items: ReadonlyArray<{ id: string; at: Date }>) {
  const [first, ...rest] = items.map((item) =>
    db
      .update(runs)
      .set({ repairAfter: item.at.toISOString() })
      .where(and(eq(runs.id, item.id), isNotNull(runs.repairAfter))),
  );
  if (first) await db.batch([first, ...rest]);
}
