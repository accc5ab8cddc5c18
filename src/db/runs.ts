/** Queries on runs and their steps. Every verb takes `db` first; state changes are guarded by status. */
import { and, asc, desc, eq, getTableColumns, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { EventFields } from "../okta/event-fields";
import type { Db } from "./client";
import { inJson } from "./in-json";
import { olderThan } from "./keyset";
import { type RunRow, type RunStatus, runSteps, runs } from "./schema";

export const ACTIVE_STATUSES: RunStatus[] = ["running", "waiting"];

export interface NewRun {
  id: string;
  workflowId: string;
  workflowVersion: number;
  triggerEventUuid: string;
  trigger: EventFields;
  assetId: string | null;
}

/**
 * Starts runs idempotently: one per (workflow, triggering event), whatever the number
 * of deliveries of the message. Returns the ids of those runs still `running`,
 * existing or new, which the caller hands to the executor.
 */
export async function startRuns(db: Db, newRuns: readonly NewRun[], now: Date): Promise<string[]> {
  if (newRuns.length === 0) return [];
  const at = now.toISOString();
  const values = newRuns.map((run) => ({ ...run, status: "running" as const, startedAt: at, updatedAt: at }));
  // One bound parameter per column; stay under D1's 100 parameters per statement.
  const perInsert = Math.floor(100 / Object.keys(getTableColumns(runs)).length);
  const inserts = [];
  for (let i = 0; i < values.length; i += perInsert) {
    inserts.push(
      db
        .insert(runs)
        .values(values.slice(i, i + perInsert))
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = inserts;
  if (first) await db.batch([first, ...rest]);
  const triggers = [...new Set(newRuns.map((run) => run.triggerEventUuid))];
  const rows = await db
    .select({ id: runs.id, workflowId: runs.workflowId, triggerEventUuid: runs.triggerEventUuid })
    .from(runs)
    .where(and(inJson(runs.triggerEventUuid, triggers), eq(runs.status, "running")));
  const wanted = new Set(newRuns.map((run) => `${run.workflowId}:${run.triggerEventUuid}`));
  return rows.filter((row) => wanted.has(`${row.workflowId}:${row.triggerEventUuid}`)).map((row) => row.id);
}

export async function getRun(db: Db, id: string) {
  return db.select().from(runs).where(eq(runs.id, id)).get();
}

/**
 * Takes the run for this consumer until `until`, so that two deliveries of the same
 * message never execute it at once, and returns the run as it stands. Undefined when
 * another consumer holds it or it has ended.
 */
export async function acquireLease(db: Db, id: string, now: Date, until: Date): Promise<RunRow | undefined> {
  const [run] = await db
    .update(runs)
    .set({ leaseUntil: until.toISOString() })
    .where(
      and(
        eq(runs.id, id),
        inArray(runs.status, ACTIVE_STATUSES),
        or(isNull(runs.leaseUntil), lt(runs.leaseUntil, now.toISOString())),
      ),
    )
    .returning();
  return run;
}

/**
 * Extends a held lease before a slow step, so a long run does not outlive it. False
 * when the run is no longer running (an admin terminated it meanwhile).
 */
export async function renewLease(db: Db, id: string, until: Date): Promise<boolean> {
  const rows = await db
    .update(runs)
    .set({ leaseUntil: until.toISOString() })
    .where(and(eq(runs.id, id), eq(runs.status, "running")))
    .returning({ id: runs.id });
  return rows.length > 0;
}

/** Gives the run back; `updatedAt` marks activity, which is how the cron tells a stalled run. */
export async function releaseLease(db: Db, id: string, now: Date): Promise<void> {
  await db.update(runs).set({ leaseUntil: null, updatedAt: now.toISOString() }).where(eq(runs.id, id));
}

/** Ends a running run. A run terminated meanwhile keeps its `terminated` status. */
export async function finishRun(
  db: Db,
  id: string,
  status: Extract<RunStatus, "completed" | "failed" | "timed_out">,
  now: Date,
  error: string | null = null,
): Promise<void> {
  const at = now.toISOString();
  await db
    .update(runs)
    .set({ status, error, endedAt: at, updatedAt: at, leaseUntil: null, waitingFor: null })
    .where(and(eq(runs.id, id), inArray(runs.status, ACTIVE_STATUSES)));
}

/**
 * Terminates active runs; returns those it ended, with what each was waiting for
 * (read before the update, which clears it) so their WaitRooms can be told.
 */
export async function terminateRuns(db: Db, where: { runId?: string; workflowId?: string }, now: Date) {
  const at = now.toISOString();
  const scope = and(
    where.runId ? eq(runs.id, where.runId) : undefined,
    where.workflowId ? eq(runs.workflowId, where.workflowId) : undefined,
    inArray(runs.status, ACTIVE_STATUSES),
  );
  const active = await db.select({ id: runs.id, waitingFor: runs.waitingFor }).from(runs).where(scope);
  const ended = await db
    .update(runs)
    .set({ status: "terminated", endedAt: at, updatedAt: at, waitingFor: null, error: "terminated by an admin" })
    .where(scope)
    .returning({ id: runs.id });
  const endedIds = new Set(ended.map((run) => run.id));
  // The step a run was paused at (or executing) ends with it.
  await db
    .update(runSteps)
    .set({ status: "terminated", endedAt: at })
    .where(and(inJson(runSteps.runId, [...endedIds]), inArray(runSteps.status, ["waiting", "running"])));
  return active.filter((run) => endedIds.has(run.id));
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

/** Records that a step began (or began again after a crash or a deferral), counting attempts. */
export async function startStep(
  db: Db,
  step: { runId: string; nodeId: string; seq: number; kind: "action" | "condition" | "event" },
  now: Date,
): Promise<number> {
  const at = now.toISOString();
  const row = await db
    .insert(runSteps)
    .values({ ...step, status: "running", attempts: 1, startedAt: at })
    .onConflictDoUpdate({
      target: [runSteps.runId, runSteps.nodeId],
      set: { attempts: sql`${runSteps.attempts} + 1`, status: "running", error: null },
    })
    .returning({ attempts: runSteps.attempts })
    .get();
  return row?.attempts ?? 1;
}

/** Records a step that starts and ends at once (a condition), in one statement. */
export async function recordStep(
  db: Db,
  step: { runId: string; nodeId: string; seq: number; kind: "condition" },
  result: { outcome: string; output: unknown },
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const done = { status: "succeeded" as const, outcome: result.outcome, output: result.output, endedAt: at };
  await db
    .insert(runSteps)
    .values({ ...step, attempts: 1, startedAt: at, ...done })
    .onConflictDoUpdate({ target: [runSteps.runId, runSteps.nodeId], set: done });
}

/** Records how a step ended. `outcome` is the branch taken. */
export async function finishStep(
  db: Db,
  key: { runId: string; nodeId: string },
  result: { status: "succeeded" | "failed"; outcome: string | null; output?: unknown; error?: string | null },
  now: Date,
): Promise<void> {
  await db
    .update(runSteps)
    .set({
      status: result.status,
      outcome: result.outcome,
      output: result.output ?? null,
      error: result.error ?? null,
      endedAt: now.toISOString(),
    })
    .where(and(eq(runSteps.runId, key.runId), eq(runSteps.nodeId, key.nodeId)));
}

/** Notes a retryable failure on a step that will be tried again later. */
export async function noteStepError(db: Db, key: { runId: string; nodeId: string }, error: string): Promise<void> {
  await db
    .update(runSteps)
    .set({ error })
    .where(and(eq(runSteps.runId, key.runId), eq(runSteps.nodeId, key.nodeId)));
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

/** What a waiting run waits for; shown by the runs API and used to find its WaitRoom. */
export interface WaitingFor {
  nodeId: string;
  assetId: string;
  eventTypes: string[];
  filter: unknown;
  until: string | null;
}

/** Records that the run now waits at an event node. Only a running run can pause. */
export async function pauseRun(
  db: Db,
  step: { runId: string; nodeId: string; seq: number },
  waitingFor: WaitingFor,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  await db.batch([
    db
      .insert(runSteps)
      .values({ ...step, kind: "event", status: "waiting", attempts: 1, startedAt: at })
      // A resume that got here first has recorded the outcome; never turn it back into a wait.
      .onConflictDoUpdate({
        target: [runSteps.runId, runSteps.nodeId],
        set: { status: "waiting" },
        setWhere: sql`${runSteps.status} <> 'succeeded'`,
      }),
    db
      .update(runs)
      .set({ status: "waiting", waitingFor, updatedAt: at })
      .where(and(eq(runs.id, step.runId), eq(runs.status, "running"))),
  ]);
}

/**
 * Records how a wait ended (the event, or the timeout) and sets the run running again.
 * Upserts the step: the pause may not have been written if its consumer crashed.
 */
export async function resumeWaitingRun(
  db: Db,
  step: { runId: string; nodeId: string; seq: number },
  result: { outcome: "next" | "timeout"; output: unknown },
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const done = { status: "succeeded" as const, outcome: result.outcome, output: result.output, endedAt: at };
  await db.batch([
    db
      .insert(runSteps)
      .values({ ...step, kind: "event", attempts: 1, startedAt: at, ...done })
      .onConflictDoUpdate({ target: [runSteps.runId, runSteps.nodeId], set: done }),
    db
      .update(runs)
      .set({ status: "running", waitingFor: null, updatedAt: at })
      .where(and(eq(runs.id, step.runId), inArray(runs.status, ACTIVE_STATUSES))),
  ]);
}

/** Running runs not updated since `staleBefore` and not leased at `now`: their queue message was lost. */
export async function findStalledRuns(db: Db, now: Date, staleBefore: Date, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        eq(runs.status, "running"),
        lt(runs.updatedAt, staleBefore.toISOString()),
        or(isNull(runs.leaseUntil), lt(runs.leaseUntil, now.toISOString())),
      ),
    )
    .orderBy(runs.updatedAt)
    .limit(limit);
  return rows.map((row) => row.id);
}
