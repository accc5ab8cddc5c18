/** D1 reads and writes of a replay: the stored events of a range, the runs they already have, waiting runs, the replayed pairs. */
import { and, asc, eq, gte, lt } from "drizzle-orm";
import type { Db } from "./client";
import { selectEventsWithoutRaw } from "./events";
import { inJson } from "./in-json";
import { events, replayedRuns, runs, suppressedEvents } from "./schema";

export interface ReplayRange {
  since: string;
  until: string;
  eventTypes?: string[];
  assetId?: string;
}

/** The System Category events published in [since, until), oldest first, without their raw JSON; `limit + 1` rows tell whether there were more. */
export async function eventsInRange(db: Db, range: ReplayRange, limit: number) {
  return selectEventsWithoutRaw(db)
    .where(
      and(
        eq(events.inCategory, true),
        gte(events.eventDate, range.since),
        lt(events.eventDate, range.until),
        range.eventTypes?.length ? inJson(events.eventType, range.eventTypes) : undefined,
        range.assetId ? eq(events.assetId, range.assetId) : undefined,
      ),
    )
    .orderBy(asc(events.eventDate), asc(events.uuid))
    .limit(limit + 1);
}

/**
 * The (workflow, event) pairs already decided: they have a run, or the match was
 * suppressed (db/suppressions.ts), which the engine never reverses. A replay leaves both alone.
 */
export async function runPairsOf(db: Db, eventUuids: readonly string[]) {
  if (eventUuids.length === 0) return [];
  const [ran, suppressed] = await db.batch([
    db
      .select({ workflowId: runs.workflowId, triggerEventUuid: runs.triggerEventUuid })
      .from(runs)
      .where(inJson(runs.triggerEventUuid, eventUuids)),
    db
      .select({ workflowId: suppressedEvents.workflowId, triggerEventUuid: suppressedEvents.eventUuid })
      .from(suppressedEvents)
      .where(inJson(suppressedEvents.eventUuid, eventUuids)),
  ]);
  return [...ran, ...suppressed];
}

/** The waiting runs on these assets, with what they wait for. */
export async function waitingRunsOn(db: Db, assetIds: readonly string[]) {
  if (assetIds.length === 0) return [];
  return db
    .select({ id: runs.id, workflowId: runs.workflowId, assetId: runs.assetId, waitingFor: runs.waitingFor })
    .from(runs)
    .where(and(eq(runs.status, "waiting"), inJson(runs.assetId, assetIds)));
}

/** Records the pairs a replay starts; a pair recorded before keeps its first replay. */
export async function recordReplayedPairs(
  db: Db,
  replayId: string,
  pairs: ReadonlyArray<{ workflowId: string; triggerEventUuid: string }>,
  at: string,
): Promise<void> {
  // Four columns a row: stay under D1's 100 bound parameters per statement.
  const statements = [];
  for (let i = 0; i < pairs.length; i += 24) {
    statements.push(
      db
        .insert(replayedRuns)
        .values(pairs.slice(i, i + 24).map((pair) => ({ ...pair, replayId, requestedAt: at })))
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/** A replay's pairs and the runs that carry them (none yet while the queue has not reached them). */
export async function replayRuns(db: Db, replayId: string) {
  return db
    .select({
      workflowId: replayedRuns.workflowId,
      eventUuid: replayedRuns.triggerEventUuid,
      requestedAt: replayedRuns.requestedAt,
      runId: runs.id,
      status: runs.status,
    })
    .from(replayedRuns)
    .leftJoin(
      runs,
      and(eq(runs.workflowId, replayedRuns.workflowId), eq(runs.triggerEventUuid, replayedRuns.triggerEventUuid)),
    )
    .where(eq(replayedRuns.replayId, replayId))
    .orderBy(asc(replayedRuns.triggerEventUuid), asc(replayedRuns.workflowId));
}
