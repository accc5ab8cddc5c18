/**
 * The writes that move a run, as statements to put in one D1 batch (not executed here).
 * The engine executes many runs at once and commits each round of their steps in a
 * single batch, because locally and in D1 the cost is the number of round trips.
 * Every write is guarded by the run's status, so a run terminated meanwhile is left
 * as the admin left it.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client";
import { inJson } from "./in-json";
import { type RunStatus, runSteps, runs } from "./schema";
import type { WaitingFor } from "./wait-state";

export const ACTIVE_STATUSES: RunStatus[] = ["running", "waiting"];

/** A running run whose consumer died is handed back by the cron this long after its last step. */
export const STALLED_AFTER_MS = 15 * 60_000;
/** A paused run's WaitRoom is asked whether it holds the wait this long after the pause. */
export const FIRST_WAIT_CHECK_MS = 15 * 60_000;
/** An ended run whose WaitRoom may still hold its wait is cleaned up by the cron after this. */
export const WAIT_CLEANUP_AFTER_MS = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** A condition: starts and ends at once. */
export function recordCondition(
  db: Db,
  step: { runId: string; nodeId: string; seq: number },
  result: boolean,
  at: Date,
) {
  const done = {
    status: "succeeded" as const,
    outcome: result ? "true" : "false",
    output: { result },
    endedAt: at.toISOString(),
  };
  return db
    .insert(runSteps)
    .values({ ...step, kind: "condition", attempts: 1, startedAt: at.toISOString(), ...done })
    .onConflictDoUpdate({ target: [runSteps.runId, runSteps.nodeId], set: done });
}

/**
 * A new step row selected from the run's own row (INSERT … SELECT): no run in
 * `status`, no step. This is how a write refuses a run terminated meanwhile.
 */
function stepIfRun(
  db: Db,
  step: { runId: string; nodeId: string; seq: number; kind: "action" | "event"; status: "running" | "waiting" },
  runStatus: RunStatus,
  at: Date,
) {
  return db
    .select({
      runId: runs.id,
      nodeId: sql<string>`${step.nodeId}`.as("node_id"),
      seq: sql<number>`${step.seq}`.as("seq"),
      kind: sql<string>`${step.kind}`.as("kind"),
      status: sql<string>`${step.status}`.as("status"),
      outcome: sql`null`.as("outcome"),
      output: sql`null`.as("output"),
      error: sql`null`.as("error"),
      attempts: sql<number>`1`.as("attempts"),
      startedAt: sql<string>`${at.toISOString()}`.as("started_at"),
      endedAt: sql`null`.as("ended_at"),
    })
    .from(runs)
    .where(and(eq(runs.id, step.runId), eq(runs.status, runStatus)));
}

/**
 * Records that an action begins (again), counting attempts, but only while the run is
 * running: RETURNING is empty for a run terminated meanwhile, which is then not executed.
 */
export function startAction(db: Db, step: { runId: string; nodeId: string; seq: number }, at: Date) {
  return db
    .insert(runSteps)
    .select(stepIfRun(db, { ...step, kind: "action", status: "running" }, "running", at))
    .onConflictDoUpdate({
      target: [runSteps.runId, runSteps.nodeId],
      set: { attempts: sql`${runSteps.attempts} + 1`, status: "running", error: null },
    })
    .returning({ attempts: runSteps.attempts });
}

/** Marks runs as making progress: pushes the stalled-run repair back and extends their lease. */
export function touchRuns(db: Db, runIds: readonly string[], leaseUntil: Date, at: Date) {
  return db
    .update(runs)
    .set({
      leaseUntil: leaseUntil.toISOString(),
      updatedAt: at.toISOString(),
      // A deferred action's time has come: it is executing now.
      notBefore: null,
      repairAfter: iso(at.getTime() + STALLED_AFTER_MS),
    })
    .where(and(inJson(runs.id, runIds), eq(runs.status, "running")));
}

/** How a step ended. `outcome` is the branch taken. */
export function finishStep(
  db: Db,
  key: { runId: string; nodeId: string },
  result: { status: "succeeded" | "failed"; outcome: string | null; output?: unknown; error?: string | null },
  at: Date,
) {
  return db
    .update(runSteps)
    .set({
      status: result.status,
      outcome: result.outcome,
      output: result.output ?? null,
      error: result.error ?? null,
      endedAt: at.toISOString(),
    })
    .where(and(eq(runSteps.runId, key.runId), eq(runSteps.nodeId, key.nodeId)));
}

/** A failed or unknown step that never started (no asset to wait on): recorded started and failed at once. */
export function recordFailedStep(
  db: Db,
  step: { runId: string; nodeId: string; seq: number; kind: "event" | "action" },
  error: string,
  at: Date,
) {
  const now = at.toISOString();
  return db
    .insert(runSteps)
    .values({ ...step, status: "failed", attempts: 1, startedAt: now, endedAt: now, error })
    .onConflictDoUpdate({ target: [runSteps.runId, runSteps.nodeId], set: { status: "failed", endedAt: now, error } });
}

/**
 * Defers a run whose action asked to be retried later: nothing executes it before
 * `notBefore` (messages that arrive early are put back), and the cron looks for it a
 * little after, in case the delayed message is lost.
 */
export function deferRun(db: Db, key: { runId: string; nodeId: string }, error: string, notBefore: Date, at: Date) {
  return [
    db
      .update(runSteps)
      .set({ error })
      .where(and(eq(runSteps.runId, key.runId), eq(runSteps.nodeId, key.nodeId))),
    db
      .update(runs)
      .set({
        notBefore: notBefore.toISOString(),
        updatedAt: at.toISOString(),
        repairAfter: iso(notBefore.getTime() + STALLED_AFTER_MS),
      })
      .where(and(eq(runs.id, key.runId), eq(runs.status, "running"))),
  ] as const;
}

/** Ends an active run; a run terminated meanwhile keeps its status. */
export function finishRun(
  db: Db,
  id: string,
  status: Extract<RunStatus, "completed" | "failed" | "timed_out">,
  at: Date,
  error: string | null = null,
) {
  const now = at.toISOString();
  return db
    .update(runs)
    .set({
      status,
      error,
      endedAt: now,
      updatedAt: now,
      waitingFor: null,
      notBefore: null,
      repairAfter: cleanupAfter(at),
    })
    .where(and(eq(runs.id, id), inArray(runs.status, ACTIVE_STATUSES)));
}

/** An ended run needs the cron again only while its WaitRoom may still hold a wait. */
export function cleanupAfter(at: Date) {
  return sql`CASE WHEN ${runs.waitRoom} IS NULL THEN NULL ELSE ${iso(at.getTime() + WAIT_CLEANUP_AFTER_MS)} END`;
}

/**
 * Pauses a running run at an event node, in D1 first: the WaitRoom is called only
 * when RETURNING shows the pause took (a run terminated meanwhile never registers a
 * wait), and if that call is lost the cron finds the run waiting and re-registers it.
 */
export function pauseRun(
  db: Db,
  step: { runId: string; nodeId: string; seq: number },
  waitingFor: WaitingFor,
  at: Date,
) {
  const now = at.toISOString();
  return [
    db
      .update(runs)
      .set({
        status: "waiting",
        waitingFor,
        waitRoom: waitingFor.assetId,
        updatedAt: now,
        repairAfter: iso(at.getTime() + FIRST_WAIT_CHECK_MS),
      })
      .where(and(eq(runs.id, step.runId), eq(runs.status, "running")))
      .returning({ id: runs.id }),
    // Only when the pause took: a run terminated meanwhile gets no waiting step.
    db
      .insert(runSteps)
      .select(stepIfRun(db, { ...step, kind: "event", status: "waiting" }, "waiting", at))
      // A resume that got here first has recorded the outcome; never turn it back into a wait.
      .onConflictDoUpdate({
        target: [runSteps.runId, runSteps.nodeId],
        set: { status: "waiting" },
        setWhere: sql`${runSteps.status} <> 'succeeded'`,
      }),
  ] as const;
}

/**
 * Records how a wait ended (the event, or the timeout) and sets the run running again.
 * Upserts the step: the pause may not have been written if its consumer crashed.
 */
export function resumeRun(
  db: Db,
  step: { runId: string; nodeId: string; seq: number },
  result: { outcome: "next" | "timeout"; output: unknown },
  at: Date,
) {
  const now = at.toISOString();
  const done = { status: "succeeded" as const, outcome: result.outcome, output: result.output, endedAt: now };
  return [
    db
      .insert(runSteps)
      .values({ ...step, kind: "event", attempts: 1, startedAt: now, ...done })
      .onConflictDoUpdate({ target: [runSteps.runId, runSteps.nodeId], set: done }),
    db
      .update(runs)
      .set({ status: "running", waitingFor: null, updatedAt: now, repairAfter: iso(at.getTime() + STALLED_AFTER_MS) })
      .where(and(eq(runs.id, step.runId), inArray(runs.status, ACTIVE_STATUSES))),
  ] as const;
}

/** Gives runs back after a batch. */
export function releaseRuns(db: Db, runIds: readonly string[]) {
  return db.update(runs).set({ leaseUntil: null }).where(inJson(runs.id, runIds));
}

/**
 * The WaitRoom has let these runs' waits go. A run waiting again (at a later event
 * node) keeps its marker: it names the wait it waits in now.
 */
export function clearWaitRooms(db: Db, runIds: readonly string[]) {
  return db
    .update(runs)
    .set({
      waitRoom: null,
      repairAfter: sql`CASE WHEN ${runs.status} IN ('running', 'waiting') THEN ${runs.repairAfter} ELSE NULL END`,
    })
    .where(and(inJson(runs.id, runIds), sql`${runs.status} <> 'waiting'`));
}
