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
 *
 * The engine's writes are compiled once and bound per use (compiled.ts): they are most
 * of what a run costs in CPU.
 */
import { and, eq, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type CompileDb, compiled, jsonText, type Slot, type Write } from "./compiled";
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

/** What a held run's writes bind: the run and its lease owner (see Holder), and the time of the write. */
interface HeldValues extends Record<string, unknown> {
  runId: string;
  owner: string;
  at: string;
}

/** A step's writes bind also the node and its position in the walk. */
interface StepValues extends HeldValues {
  nodeId: string;
  seq: number;
}

const held$ = (holder: Holder, at: Date): HeldValues => ({ ...holder, at: at.toISOString() });

/** The run's row, while its holder (`runId`, `owner`) holds it in `status`. */
function held(p: Slot<HeldValues>, status: RunStatus | RunStatus[] = "running"): SQL {
  return and(
    eq(runs.id, p("runId")),
    eq(runs.leaseOwner, p("owner")),
    Array.isArray(status) ? inArray(runs.status, status) : eq(runs.status, status),
  ) as SQL;
}

/** `EXISTS` the held run: guards a step write on the run's own row. */
function whileHeld(p: Slot<HeldValues>, status: RunStatus = "running"): SQL {
  return sql`EXISTS (SELECT 1 FROM runs WHERE runs.id = ${p("runId")} AND runs.lease_owner = ${p("owner")} AND runs.status = ${status})`;
}

/** Nobody holds the run (never leased, released, or its lease ran out): the cron may write. */
export function unheld(at: Date | SQL): SQL {
  return or(isNull(runs.leaseUntil), lt(runs.leaseUntil, at instanceof Date ? at.toISOString() : at)) as SQL;
}

/** Lease fields cleared: the run is let go with the write that ends or parks it. */
const RELEASED = { leaseUntil: null, leaseOwner: null, leaseMessage: null } as const;

/**
 * A new step row selected from the run's own row (INSERT … SELECT): no held run in
 * the expected status, no step. This is how a write refuses a run terminated, or
 * taken by another consumer, meanwhile.
 */
function stepRow(
  db: CompileDb,
  p: Slot<StepValues>,
  step: { kind: "action" | "event" | "condition" | SQL; status: string },
  done: { outcome?: SQL; output?: SQL; error?: SQL; endedAt?: SQL } = {},
  runStatus: RunStatus | RunStatus[] = "running",
  also?: SQL,
) {
  return db
    .select({
      runId: runs.id,
      nodeId: sql<string>`${p("nodeId")}`.as("node_id"),
      seq: sql<number>`${p("seq")}`.as("seq"),
      kind: sql<string>`${step.kind}`.as("kind"),
      status: sql<string>`${step.status}`.as("status"),
      outcome: sql`${done.outcome ?? null}`.as("outcome"),
      output: sql`${done.output ?? null}`.as("output"),
      error: sql`${done.error ?? null}`.as("error"),
      attempts: sql<number>`1`.as("attempts"),
      startedAt: sql<string>`${p("at")}`.as("started_at"),
      endedAt: sql`${done.endedAt ?? null}`.as("ended_at"),
    })
    .from(runs)
    .where(and(held(p, runStatus), also));
}

const stepKey = [runSteps.runId, runSteps.nodeId];

/**
 * A step recorded ended in one write (a condition, or how a wait ended), with its branch
 * and output; `setWhere` says which existing row it may overwrite.
 */
function endedStepWrite(kind: "condition" | "event", setWhere: SQL) {
  return compiled<StepValues & { outcome: string; output: string }>((db, p) =>
    db
      .insert(runSteps)
      .select(
        stepRow(db, p, { kind, status: "succeeded" }, { outcome: p("outcome"), output: p("output"), endedAt: p("at") }),
      )
      .onConflictDoUpdate({
        target: stepKey,
        set: { status: "succeeded", outcome: p("outcome"), output: p("output"), endedAt: p("at") },
        setWhere,
      }),
  );
}

const recordConditionWrite = endedStepWrite("condition", sql`${runSteps.status} <> 'terminated'`);

/** A condition: starts and ends at once; written only by the holder of a running run. */
export function recordCondition(holder: Holder, step: { nodeId: string; seq: number }, result: boolean, at: Date) {
  return recordConditionWrite({
    ...held$(holder, at),
    ...step,
    outcome: result ? "true" : "false",
    output: JSON.stringify({ result }),
  });
}

const startActionWrite = compiled<StepValues>((db, p) =>
  db
    .insert(runSteps)
    .select(
      stepRow(
        db,
        p,
        { kind: "action", status: "running" },
        {},
        "running",
        sql`(${runs.notBefore} IS NULL OR ${runs.notBefore} <= ${p("at")})`,
      ),
    )
    .onConflictDoUpdate({
      target: stepKey,
      set: { attempts: sql`${runSteps.attempts} + 1`, status: "running", error: null },
      // Only a step still to do: never restart a succeeded or terminated one.
      setWhere: sql`${runSteps.status} IN ('running', 'failed')`,
    })
    .returning({ attempts: runSteps.attempts }),
);

/**
 * The claim right before an action is called: records that the action begins (again),
 * counting attempts, only while `holder` holds the run, the run is running, and no
 * deferral forbids it yet. RETURNING is empty otherwise, and then nothing is called.
 * Pair it with `touchRun`, in the same batch after it.
 */
export function startAction(holder: Holder, step: { nodeId: string; seq: number }, at: Date) {
  return startActionWrite({ ...held$(holder, at), ...step });
}

const touchRunWrite = compiled<HeldValues & { leaseUntil: string; repairAfter: string }>((db, p) =>
  db
    .update(runs)
    .set({
      leaseUntil: p("leaseUntil"),
      updatedAt: p("at"),
      // A deferred action's time has come: it is executing now.
      notBefore: null,
      repairAfter: p("repairAfter"),
    })
    .where(held(p)),
);

/** Marks a held run as making progress: extends its lease and pushes the stalled-run repair back. */
export function touchRun(holder: Holder, leaseUntil: Date, at: Date) {
  return touchRunWrite({
    ...held$(holder, at),
    leaseUntil: isoAt(leaseUntil.getTime()),
    repairAfter: isoAt(at.getTime() + STALLED_AFTER_MS),
  });
}

const finishStepWrite = compiled<
  HeldValues & { nodeId: string; status: string; outcome: string | null; output: string | null; error: string | null }
>((db, p) =>
  db
    .update(runSteps)
    .set({ status: p("status"), outcome: p("outcome"), output: p("output"), error: p("error"), endedAt: p("at") })
    .where(
      and(
        eq(runSteps.runId, p("runId")),
        eq(runSteps.nodeId, p("nodeId")),
        eq(runSteps.status, "running"),
        whileHeld(p),
      ),
    ),
);

/** How a step ended. `outcome` is the branch taken. Written only by the holder of a running run. */
export function finishStep(
  holder: Holder,
  nodeId: string,
  result: { status: "succeeded" | "failed"; outcome: string | null; output?: unknown; error?: string | null },
  at: Date,
) {
  return finishStepWrite({
    ...held$(holder, at),
    nodeId,
    status: result.status,
    outcome: result.outcome,
    output: jsonText(result.output),
    error: result.error ?? null,
  });
}

const recordFailedStepWrite = compiled<StepValues & { kind: string; error: string }>((db, p) =>
  db
    .insert(runSteps)
    .select(stepRow(db, p, { kind: p("kind"), status: "failed" }, { error: p("error"), endedAt: p("at") }))
    .onConflictDoUpdate({
      target: stepKey,
      set: { status: "failed", endedAt: p("at"), error: p("error") },
      setWhere: sql`${runSteps.status} <> 'terminated'`,
    }),
);

/** A failed step that never started (no asset to wait on): recorded started and failed at once. */
export function recordFailedStep(
  holder: Holder,
  step: { nodeId: string; seq: number; kind: "event" | "action" },
  error: string,
  at: Date,
) {
  return recordFailedStepWrite({ ...held$(holder, at), ...step, error });
}

const deferStepWrite = compiled<HeldValues & { nodeId: string; error: string }>((db, p) =>
  db
    .update(runSteps)
    .set({ error: p("error") })
    .where(and(eq(runSteps.runId, p("runId")), eq(runSteps.nodeId, p("nodeId")), whileHeld(p))),
);

const deferRunWrite = compiled<HeldValues & { notBefore: string; repairAfter: string }>((db, p) =>
  db
    .update(runs)
    .set({ ...RELEASED, notBefore: p("notBefore"), updatedAt: p("at"), repairAfter: p("repairAfter") })
    .where(held(p)),
);

/**
 * Defers a run whose action asked to be retried later: nothing executes it before
 * `notBefore` (messages that arrive early are put back), the cron looks for it a
 * little after in case the delayed message is lost, and the lease is let go.
 */
export function deferRun(holder: Holder, nodeId: string, error: string, notBefore: Date, at: Date): Write[] {
  return [
    deferStepWrite({ ...held$(holder, at), nodeId, error }),
    deferRunWrite({
      ...held$(holder, at),
      notBefore: isoAt(notBefore.getTime()),
      repairAfter: isoAt(notBefore.getTime() + STALLED_AFTER_MS),
    }),
  ];
}

/** The columns that end a run; `cleanup` is when the cron looks at it again (see cleanupAfter). */
function ended(status: RunStatus | SQL, at: string | SQL, error: string | null | SQL, cleanup: SQL) {
  return {
    status,
    error,
    endedAt: at,
    updatedAt: at,
    waitingFor: null,
    notBefore: null,
    repairAfter: cleanup,
    ...RELEASED,
  };
}

const finishRunWrite = compiled<HeldValues & { status: string; error: string | null; cleanupAt: string }>((db, p) =>
  db
    .update(runs)
    .set(
      ended(
        p("status"),
        p("at"),
        p("error"),
        sql`CASE WHEN ${runs.waitRoom} IS NULL THEN NULL ELSE ${p("cleanupAt")} END`,
      ),
    )
    .where(held(p, ACTIVE_STATUSES))
    .returning({ id: runs.id }),
);

/** Ends a run its holder executes; a run terminated or taken meanwhile keeps its state. */
export function finishRun(
  holder: Holder,
  status: Extract<RunStatus, "completed" | "failed" | "timed_out">,
  at: Date,
  error: string | null = null,
) {
  return finishRunWrite({
    ...held$(holder, at),
    status,
    error,
    cleanupAt: isoAt(at.getTime() + WAIT_CLEANUP_AFTER_MS),
  });
}

/** Ends an active run nobody holds: the cron's verdict on a run it cannot repair. */
export function failUnheldRun(db: Db, runId: string, at: Date, error: string) {
  return db
    .update(runs)
    .set(ended("failed", at.toISOString(), error, cleanupAfter(at)))
    .where(and(eq(runs.id, runId), inArray(runs.status, ACTIVE_STATUSES), unheld(at)));
}

/** An ended run needs the cron again only while its WaitRoom may still hold a wait. */
export function cleanupAfter(at: Date) {
  return sql`CASE WHEN ${runs.waitRoom} IS NULL THEN NULL ELSE ${isoAt(at.getTime() + WAIT_CLEANUP_AFTER_MS)} END`;
}

const pauseStepWrite = compiled<StepValues>((db, p) =>
  db
    .insert(runSteps)
    .select(stepRow(db, p, { kind: "event", status: "waiting" }))
    // A resume that got here first has recorded the outcome; never turn it back into a wait.
    .onConflictDoUpdate({
      target: stepKey,
      set: { status: "waiting" },
      setWhere: sql`${runSteps.status} NOT IN ('succeeded', 'terminated')`,
    }),
);

const pauseRunWrite = compiled<HeldValues & { waitingFor: string; room: string; repairAfter: string }>((db, p) =>
  db
    .update(runs)
    .set({
      ...RELEASED,
      status: "waiting",
      waitingFor: p("waitingFor"),
      waitRoom: p("room"),
      updatedAt: p("at"),
      repairAfter: p("repairAfter"),
    })
    .where(held(p))
    .returning({ id: runs.id }),
);

/**
 * Pauses a held, running run at an event node, in D1 first, and lets the lease go:
 * the WaitRoom is called only when RETURNING shows the pause took (a run terminated
 * or taken meanwhile never registers a wait), and if that call is lost the cron finds
 * the run waiting and registers it again. `room` is the WaitRoom's name.
 */
export function pauseRun(
  holder: Holder,
  step: { nodeId: string; seq: number },
  waitingFor: WaitingFor,
  room: string,
  at: Date,
): Write[] {
  return [
    // The step first, while the run is still running and held by us.
    pauseStepWrite({ ...held$(holder, at), ...step }),
    pauseRunWrite({
      ...held$(holder, at),
      waitingFor: JSON.stringify(waitingFor),
      room,
      repairAfter: isoAt(at.getTime() + FIRST_WAIT_CHECK_MS),
    }),
  ];
}

const resumeRunWrite = compiled<HeldValues & { nodeId: string; leaseUntil: string; repairAfter: string }>((db, p) => {
  const pausedHereByNobody = and(
    eq(runs.id, p("runId")),
    eq(runs.status, "waiting"),
    sql`json_extract(${runs.waitingFor}, '$.nodeId') = ${p("nodeId")}`,
    unheld(p("at")),
  );
  const notYetApplied = sql`NOT EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = ${p("runId")} AND s.node_id = ${p("nodeId")} AND s.status IN ('succeeded', 'terminated'))`;
  return db
    .update(runs)
    .set({
      status: "running",
      waitingFor: null,
      updatedAt: p("at"),
      repairAfter: p("repairAfter"),
      leaseUntil: p("leaseUntil"),
      leaseOwner: p("owner"),
    })
    .where(and(or(held(p, ACTIVE_STATUSES), pausedHereByNobody), notYetApplied));
});

const resumeStepWrite = endedStepWrite("event", sql`${runSteps.status} IN ('waiting', 'running')`);

/**
 * Records how a wait ended (the event, or the timeout) and sets the run running again,
 * held by `holder`: a run it holds already (a resume message), or one it paused itself
 * and let go (the WaitRoom resolved the wait at once), if the run still waits at this
 * node and nobody took it since. Upserts the step (its pause may not have been written
 * if a consumer crashed), never over a step already ended: a resumption applies once.
 * The run's row first: the step is written only if the run is then held.
 */
export function resumeRun(
  holder: Holder,
  step: { nodeId: string; seq: number },
  result: { outcome: "next" | "timeout"; output: unknown },
  at: Date,
  leaseUntil: Date,
): Write[] {
  return [
    resumeRunWrite({
      ...held$(holder, at),
      nodeId: step.nodeId,
      leaseUntil: isoAt(leaseUntil.getTime()),
      repairAfter: isoAt(at.getTime() + STALLED_AFTER_MS),
    }),
    resumeStepWrite({
      ...held$(holder, at),
      ...step,
      outcome: result.outcome,
      output: JSON.stringify(result.output),
    }),
  ];
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
