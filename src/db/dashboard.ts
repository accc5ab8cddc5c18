/**
 * Read-only queries the dashboard needs beyond the admin API's: overview counts, the
 * runs an event started or resumed, each run's path for the Run History list, and
 * per-workflow activity. Every verb takes `db` first.
 */
import { and, asc, count, desc, eq, getTableColumns, gte, isNull, lt, max, min, sql } from "drizzle-orm";
import type { Db } from "./client";
import { countOpenDeadLetters } from "./dead-letters";
import { inJson } from "./in-json";
import { deliveries, events, runSteps, runs, workflows } from "./schema";

export interface OverviewQuery {
  /** Count events published at or after this (ISO 8601). */
  eventsSince: string;
  /** Events still unhandled that reached the Worker before this are "stranded". */
  strandedBefore: string;
  failedLimit: number;
}

/** Runs waiting now, and the soonest of their deadlines. */
function waitingRuns(db: Db) {
  return db
    .select({ count: count(), soonest: min(sql<string | null>`json_extract(${runs.waitingFor}, '$.until')`) })
    .from(runs)
    .where(eq(runs.status, "waiting"));
}

function lastDelivery(db: Db) {
  return db.select({ at: max(deliveries.receivedAt) }).from(deliveries);
}

/** Events still unhandled that reached the Worker before `before`. Uses the partial index on unconsumed events. */
function strandedEvents(db: Db, before: string) {
  return db
    .select({ count: count() })
    .from(events)
    .where(and(isNull(events.consumedAt), lt(events.eventTimestamp, before)));
}

/** Everything the overview shows, in one D1 round trip. */
export async function overview(db: Db, query: OverviewQuery) {
  const [byType, byStatus, waiting, failed, delivered, stranded] = await db.batch([
    db
      .select({ eventType: events.eventType, count: count() })
      .from(events)
      .where(gte(events.eventDate, query.eventsSince))
      .groupBy(events.eventType),
    db.select({ status: runs.status, count: count() }).from(runs).groupBy(runs.status),
    waitingRuns(db),
    db.select().from(runs).where(eq(runs.status, "failed")).orderBy(desc(runs.startedAt)).limit(query.failedLimit),
    lastDelivery(db),
    strandedEvents(db, query.strandedBefore),
  ]);
  return {
    eventsByType: byType,
    runsByStatus: byStatus,
    waiting: { count: waiting[0]?.count ?? 0, soonest: waiting[0]?.soonest ?? null },
    failed,
    lastDeliveryAt: delivered[0]?.at ?? null,
    stranded: stranded[0]?.count ?? 0,
  };
}

export interface HealthQuery {
  strandedBefore: string;
  /** Count runs that failed at or after this (ISO 8601). */
  failedSince: string;
}

/**
 * What an on-call engineer checks first (`/api/status`), in one D1 round trip: the
 * overview's waiting, stranded and last-delivery figures, plus the oldest unhandled
 * event, recent failures and the dead letters nobody has re-driven.
 */
export async function healthFigures(db: Db, query: HealthQuery) {
  const [oldest, stranded, waiting, failed, delivered, letters] = await db.batch([
    db
      .select({ at: min(events.eventTimestamp) })
      .from(events)
      .where(isNull(events.consumedAt)),
    strandedEvents(db, query.strandedBefore),
    waitingRuns(db),
    db
      .select({ count: count() })
      .from(runs)
      .where(and(eq(runs.status, "failed"), gte(runs.endedAt, query.failedSince))),
    lastDelivery(db),
    countOpenDeadLetters(db),
  ]);
  return {
    oldestUnconsumedAt: oldest[0]?.at ?? null,
    stranded: stranded[0]?.count ?? 0,
    waiting: { count: waiting[0]?.count ?? 0, soonest: waiting[0]?.soonest ?? null },
    failed: failed[0]?.count ?? 0,
    lastDeliveryAt: delivered[0]?.at ?? null,
    openDeadLetters: letters[0]?.count ?? 0,
  };
}

/**
 * The runs an event started (its trigger) and the runs it resumed (an event step
 * whose output names it). Both scan: neither column is indexed, which is fine for an
 * event page; an index would be the fix if run_steps grows large.
 */
export async function runsOfEvent(db: Db, uuid: string) {
  const [started, resumed, cancelled] = await db.batch([
    db.select().from(runs).where(eq(runs.triggerEventUuid, uuid)).orderBy(desc(runs.startedAt)),
    db
      .select({ run: getTableColumns(runs), nodeId: runSteps.nodeId })
      .from(runSteps)
      .innerJoin(runs, eq(runs.id, runSteps.runId))
      .where(and(eq(runSteps.kind, "event"), eq(sql`json_extract(${runSteps.output}, '$.eventUuid')`, sql`${uuid}`))),
    // The runs its cancel-on rules ended (runs_cancelled_by).
    db.select().from(runs).where(eq(runs.cancelledBy, uuid)).orderBy(desc(runs.startedAt)),
  ]);
  return { started, resumed, cancelled };
}

/** The path (node, kind, status, outcome) of each of these runs, in order, for the Structure column. */
export async function pathsOfRuns(db: Db, runIds: readonly string[]) {
  if (runIds.length === 0) return new Map<string, PathStep[]>();
  const rows = await db
    .select({
      runId: runSteps.runId,
      nodeId: runSteps.nodeId,
      kind: runSteps.kind,
      status: runSteps.status,
      outcome: runSteps.outcome,
    })
    .from(runSteps)
    .where(inJson(runSteps.runId, runIds))
    .orderBy(asc(runSteps.runId), asc(runSteps.seq));
  const paths = new Map<string, PathStep[]>();
  for (const { runId, ...step } of rows) {
    const path = paths.get(runId) ?? [];
    path.push(step);
    paths.set(runId, path);
  }
  return paths;
}

export interface PathStep {
  nodeId: string;
  kind: "action" | "condition" | "event";
  status: string;
  outcome: string | null;
}

/** Per workflow: when it last started a run and how many of its runs wait now. One grouped scan of runs. */
export async function workflowActivity(db: Db) {
  const rows = await db
    .select({
      workflowId: runs.workflowId,
      lastRunAt: max(runs.startedAt),
      waiting: sql<number>`sum(case when ${runs.status} = 'waiting' then 1 else 0 end)`,
    })
    .from(runs)
    .groupBy(runs.workflowId);
  return new Map(rows.map((row) => [row.workflowId, { lastRunAt: row.lastRunAt, waiting: Number(row.waiting) }]));
}

/** Names of workflows by id, deleted ones included (their runs stay readable). */
export async function workflowNames(db: Db, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await db
    .select({ id: workflows.id, name: workflows.name })
    .from(workflows)
    .where(inJson(workflows.id, ids));
  return new Map(rows.map((row) => [row.id, row.name]));
}

/** The assets runs wait on now (the asset each wait names), most waits first, with the soonest deadline. */
export async function waitedAssets(db: Db, limit: number) {
  const assetId = sql<string>`json_extract(${runs.waitingFor}, '$.assetId')`;
  return db
    .select({
      assetId,
      waiting: count(),
      soonest: min(sql<string | null>`json_extract(${runs.waitingFor}, '$.until')`),
    })
    .from(runs)
    .where(eq(runs.status, "waiting"))
    .groupBy(assetId)
    .orderBy(desc(count()), asc(assetId))
    .limit(limit);
}
