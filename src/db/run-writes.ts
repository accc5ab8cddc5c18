/**
 * The writes that move a run, as statements to put in a D1 batch (not executed here).
 *
 * Fencing: a consumer executes a run only while it holds the run's lease, and the lease
 * has an owner, a token fresh for every attempt (engine/hold-runs.ts). Every write a
 * holder makes names that token and the status it expects, so a consumer whose lease
 * was taken by another (it ran past the lease, its message was redelivered) changes
 * nothing and stops at its next write; and a run terminated meanwhile is left as the
 * admin left it. Step writes are INSERT … SELECT / EXISTS on the run's own row for the
 * same reason. The cron, which holds no lease, writes only to runs no one holds.
 */
import { and, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
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

/** The holder of a run's lease: the run and the owner token of the attempt executing it. */
export interface Holder {
  runId: string;
  owner: string;
}

/** The first and last instants every time column can hold in one sortable form (`YYYY-MM-DDTHH:mm:ss.sssZ`). */
const MIN_WRITABLE_MS = Date.parse("1970-01-01T00:00:00.000Z");
const MAX_WRITABLE_MS = Date.parse("9999-12-31T23:59:59.999Z");

/**
 * An instant as every time column stores it. Throws RangeError for one outside the
 * years 1970-9999 (toISOString would write `+010000-…`, which sorts before `2026-…`):
 * callers bound their inputs first (a Retry-After is capped), so this is a bug guard.
 */
export function isoAt(ms: number): string {
  if (!Number.isFinite(ms) || ms < MIN_WRITABLE_MS || ms > MAX_WRITABLE_MS) {
    throw new RangeError(`time out of range to store: ${ms}`);
  }
  return new Date(ms).toISOString();
}

/** The run's row, while `holder` holds it in `status`. */
function held(holder: Holder, status: RunStatus | RunStatus[] = "running"): SQL {
  return and(
    eq(runs.id, holder.runId),
    eq(runs.leaseOwner, holder.owner),
    Array.isArray(status) ? inArray(runs.status, status) : eq(runs.status, status),
  ) as SQL;
}

/** `EXISTS` the held run: guards a step write on the run's own row. */
function whileHeld(holder: Holder, status: RunStatus | RunStatus[] = "running"): SQL {
  const statuses = Array.isArray(status) ? status : [status];
  return sql`EXISTS (SELECT 1 FROM runs WHERE runs.id = ${holder.runId} AND runs.lease_owner = ${holder.owner} AND runs.status IN (${sql.join(
    statuses.map((s) => sql`${s}`),
    sql`, `,
  )}))`;
}

/** Nobody holds the run (never leased, released, or its lease ran out): the cron may write. */
export function unheld(at: Date): SQL {
  return or(isNull(runs.leaseUntil), lt(runs.leaseUntil, at.toISOString())) as SQL;
}

/** Lease fields cleared: the run is let go with the write that ends or parks it. */
const RELEASED = { leaseUntil: null, leaseOwner: null, leaseMessage: null } as const;

/** A condition: starts and ends at once; written only by the holder of a running run. */
export function recordCondition(
  db: Db,
  holder: Holder,
  step: { nodeId: string; seq: number },
  result: boolean,
  at: Date,
) {
  const now = at.toISOString();
  return db
    .insert(runSteps)
    .select(
      stepRow(db, holder, { ...step, kind: "condition", status: "succeeded" }, at, {
        outcome: result ? "true" : "false",
        output: JSON.stringify({ result }),
        endedAt: now,
      }),
    )
    .onConflictDoUpdate({
      target: [runSteps.runId, runSteps.nodeId],
      set: { status: "succeeded", outcome: result ? "true" : "false", output: { result }, endedAt: now },
      setWhere: sql`${runSteps.status} <> 'terminated'`,
    });
}

/**
 * A new step row selected from the run's own row (INSERT … SELECT): no held run in
 * the expected status, no step. This is how a write refuses a run terminated, or
 * taken by another consumer, meanwhile.
 */
function stepRow(
  db: Db,
  holder: Holder,
  step: { nodeId: string; seq: number; kind: "action" | "event" | "condition"; status: string },
  at: Date,
  done: { outcome?: string; output?: string; endedAt?: string } = {},
  runStatus: RunStatus | RunStatus[] = "running",
  also?: SQL,
) {
  return db
    .select({
      runId: runs.id,
      nodeId: sql<string>`${step.nodeId}`.as("node_id"),
      seq: sql<number>`${step.seq}`.as("seq"),
      kind: sql<string>`${step.kind}`.as("kind"),
      status: sql<string>`${step.status}`.as("status"),
      outcome: sql`${done.outcome ?? null}`.as("outcome"),
      output: sql`${done.output ?? null}`.as("output"),
      error: sql`null`.as("error"),
      attempts: sql<number>`1`.as("attempts"),
      startedAt: sql<string>`${at.toISOString()}`.as("started_at"),
      endedAt: sql`${done.endedAt ?? null}`.as("ended_at"),
    })
    .from(runs)
    .where(and(held(holder, runStatus), also));
}

/**
 * The claim right before an action is called: records that the action begins (again),
 * counting attempts, only while `holder` holds the run, the run is running, and no
 * deferral forbids it yet. RETURNING is empty otherwise, and then nothing is called.
 * Pair it with `touchRun`, in the same batch after it.
 */
export function startAction(db: Db, holder: Holder, step: { nodeId: string; seq: number }, at: Date) {
  const notDeferred = sql`(${runs.notBefore} IS NULL OR ${runs.notBefore} <= ${at.toISOString()})`;
  return db
    .insert(runSteps)
    .select(stepRow(db, holder, { ...step, kind: "action", status: "running" }, at, {}, "running", notDeferred))
    .onConflictDoUpdate({
      target: [runSteps.runId, runSteps.nodeId],
      set: { attempts: sql`${runSteps.attempts} + 1`, status: "running", error: null },
      // Only a step still to do: never restart a succeeded or terminated one.
      setWhere: sql`${runSteps.status} IN ('running', 'failed')`,
    })
    .returning({ attempts: runSteps.attempts });
}

/** Marks a held run as making progress: extends its lease and pushes the stalled-run repair back. */
export function touchRun(db: Db, holder: Holder, leaseUntil: Date, at: Date) {
  return db
    .update(runs)
    .set({
      leaseUntil: isoAt(leaseUntil.getTime()),
      updatedAt: at.toISOString(),
      // A deferred action's time has come: it is executing now.
      notBefore: null,
      repairAfter: isoAt(at.getTime() + STALLED_AFTER_MS),
    })
    .where(held(holder));
}

/** How a step ended. `outcome` is the branch taken. Written only by the holder of a running run. */
export function finishStep(
  db: Db,
  holder: Holder,
  nodeId: string,
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
    .where(
      and(
        eq(runSteps.runId, holder.runId),
        eq(runSteps.nodeId, nodeId),
        eq(runSteps.status, "running"),
        whileHeld(holder),
      ),
    );
}

/** A failed step that never started (no asset to wait on): recorded started and failed at once. */
export function recordFailedStep(
  db: Db,
  holder: Holder,
  step: { nodeId: string; seq: number; kind: "event" | "action" },
  error: string,
  at: Date,
) {
  const now = at.toISOString();
  return db
    .insert(runSteps)
    .select(stepRow(db, holder, { ...step, status: "failed" }, at, { endedAt: now }))
    .onConflictDoUpdate({
      target: [runSteps.runId, runSteps.nodeId],
      set: { status: "failed", endedAt: now, error },
      setWhere: sql`${runSteps.status} <> 'terminated'`,
    });
}

/**
 * Defers a run whose action asked to be retried later: nothing executes it before
 * `notBefore` (messages that arrive early are put back), the cron looks for it a
 * little after in case the delayed message is lost, and the lease is let go.
 */
export function deferRun(db: Db, holder: Holder, nodeId: string, error: string, notBefore: Date, at: Date) {
  return [
    db
      .update(runSteps)
      .set({ error })
      .where(and(eq(runSteps.runId, holder.runId), eq(runSteps.nodeId, nodeId), whileHeld(holder))),
    db
      .update(runs)
      .set({
        ...RELEASED,
        notBefore: isoAt(notBefore.getTime()),
        updatedAt: at.toISOString(),
        repairAfter: isoAt(notBefore.getTime() + STALLED_AFTER_MS),
      })
      .where(held(holder)),
  ] as const;
}

const ended = (status: RunStatus, at: Date, error: string | null) => {
  const now = at.toISOString();
  return {
    status,
    error,
    endedAt: now,
    updatedAt: now,
    waitingFor: null,
    notBefore: null,
    repairAfter: cleanupAfter(at),
    ...RELEASED,
  };
};

/** Ends a run its holder executes; a run terminated or taken meanwhile keeps its state. */
export function finishRun(
  db: Db,
  holder: Holder,
  status: Extract<RunStatus, "completed" | "failed" | "timed_out">,
  at: Date,
  error: string | null = null,
) {
  return db
    .update(runs)
    .set(ended(status, at, error))
    .where(held(holder, ACTIVE_STATUSES))
    .returning({ id: runs.id });
}

/** Ends an active run nobody holds: the cron's verdict on a run it cannot repair. */
export function failUnheldRun(db: Db, runId: string, at: Date, error: string) {
  return db
    .update(runs)
    .set(ended("failed", at, error))
    .where(and(eq(runs.id, runId), inArray(runs.status, ACTIVE_STATUSES), unheld(at)));
}

/** An ended run needs the cron again only while its WaitRoom may still hold a wait. */
export function cleanupAfter(at: Date) {
  return sql`CASE WHEN ${runs.waitRoom} IS NULL THEN NULL ELSE ${isoAt(at.getTime() + WAIT_CLEANUP_AFTER_MS)} END`;
}

/**
 * Pauses a held, running run at an event node, in D1 first, and lets the lease go:
 * the WaitRoom is called only when RETURNING shows the pause took (a run terminated
 * or taken meanwhile never registers a wait), and if that call is lost the cron finds
 * the run waiting and registers it again. `room` is the WaitRoom's name.
 */
export function pauseRun(
  db: Db,
  holder: Holder,
  step: { nodeId: string; seq: number },
  waitingFor: WaitingFor,
  room: string,
  at: Date,
) {
  const now = at.toISOString();
  return [
    // The step first, while the run is still running and held by us.
    db
      .insert(runSteps)
      .select(stepRow(db, holder, { ...step, kind: "event", status: "waiting" }, at))
      // A resume that got here first has recorded the outcome; never turn it back into a wait.
      .onConflictDoUpdate({
        target: [runSteps.runId, runSteps.nodeId],
        set: { status: "waiting" },
        setWhere: sql`${runSteps.status} NOT IN ('succeeded', 'terminated')`,
      }),
    db
      .update(runs)
      .set({
        ...RELEASED,
        status: "waiting",
        waitingFor,
        waitRoom: room,
        updatedAt: now,
        repairAfter: isoAt(at.getTime() + FIRST_WAIT_CHECK_MS),
      })
      .where(held(holder))
      .returning({ id: runs.id }),
  ] as const;
}

/**
 * Records how a wait ended (the event, or the timeout) and sets the run running again,
 * held by `holder`: a run it holds already (a resume message), or one it paused itself
 * and let go (the WaitRoom resolved the wait at once), if the run still waits at this
 * node and nobody took it since. Upserts the step (its pause may not have been written
 * if a consumer crashed), never over a step already ended: a resumption applies once.
 * The run's row first: the step is written only if the run is then held.
 */
export function resumeRun(
  db: Db,
  holder: Holder,
  step: { nodeId: string; seq: number },
  result: { outcome: "next" | "timeout"; output: unknown },
  at: Date,
  leaseUntil: Date,
) {
  const now = at.toISOString();
  const pausedHereByNobody = and(
    eq(runs.id, holder.runId),
    eq(runs.status, "waiting"),
    sql`json_extract(${runs.waitingFor}, '$.nodeId') = ${step.nodeId}`,
    unheld(at),
  );
  const notYetApplied = sql`NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = ${holder.runId} AND s.node_id = ${step.nodeId} AND s.status IN ('succeeded', 'terminated'))`;
  return [
    db
      .update(runs)
      .set({
        status: "running",
        waitingFor: null,
        updatedAt: now,
        repairAfter: isoAt(at.getTime() + STALLED_AFTER_MS),
        leaseUntil: isoAt(leaseUntil.getTime()),
        leaseOwner: holder.owner,
      })
      .where(and(or(held(holder, ACTIVE_STATUSES), pausedHereByNobody), notYetApplied)),
    db
      .insert(runSteps)
      .select(
        stepRow(db, holder, { ...step, kind: "event", status: "succeeded" }, at, {
          outcome: result.outcome,
          output: JSON.stringify(result.output),
          endedAt: now,
        }),
      )
      .onConflictDoUpdate({
        target: [runSteps.runId, runSteps.nodeId],
        set: { status: "succeeded", outcome: result.outcome, output: result.output, endedAt: now },
        setWhere: sql`${runSteps.status} IN ('waiting', 'running')`,
      }),
  ] as const;
}

/** Lets runs go that their holder stopped short of a write that releases them (a deferral not yet due, the budget spent). */
export function releaseRuns(db: Db, owner: string, runIds: readonly string[]) {
  return db
    .update(runs)
    .set(RELEASED)
    .where(and(inJson(runs.id, runIds), eq(runs.leaseOwner, owner)));
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
