/**
 * Retention: the cron deletes what is older than RETENTION_DAYS (raw payloads with
 * their events, deliveries, ended runs with their steps), in bounded chunks so that a
 * backlog drains over several ticks instead of one long D1 call. A live run keeps
 * everything it refers to: a run that is running or waiting, or that the cron still
 * has to look at (`repair_after`) or whose WaitRoom may still hold a wait (`wait_room`),
 * is never deleted, nor its steps, nor its trigger event, nor an event it resumed on.
 * Events the consumer never handled are kept too: they are someone's to look at.
 * Suppressed matches go with the run they are counted on; a suppression window goes
 * once it has ended (the next match opens a new one anyway).
 */
import { sql } from "drizzle-orm";
import type { Db } from "./db/client";
import { inJson } from "./db/in-json";
import { runSteps, runs, suppressedEvents } from "./db/schema";
import { deleteEndedWindows, deleteSuppressedOf } from "./db/suppressions";
import { logInfo } from "./log";

export const DEFAULT_RETENTION_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionLimits {
  /** Rows per statement. */
  chunk: number;
  /** Statements per table per cron tick. */
  maxChunks: number;
}

export const RETENTION_LIMITS: RetentionLimits = { chunk: 500, maxChunks: 10 };

/** The retention in days from the RETENTION_DAYS var: a whole number of days; "0" turns retention off (pure). */
export function retentionDays(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_RETENTION_DAYS;
  const days = Number(value);
  return Number.isInteger(days) && days >= 0 ? days : DEFAULT_RETENTION_DAYS;
}

/** A run that may still need what it refers to (the SQL over `runs` aliased `r`). */
const LIVE_RUN = sql.raw(
  "(r.status in ('running', 'waiting') or r.repair_after is not null or r.wait_room is not null)",
);

/** Deletes `chunk`-sized slices until one comes back short or `maxChunks` ran; returns the rows deleted. */
async function inChunks(limits: RetentionLimits, deleteChunk: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < limits.maxChunks; i++) {
    const deleted = await deleteChunk();
    total += deleted;
    if (deleted < limits.chunk) break;
  }
  return total;
}

/** Ended runs that started before `cutoff`, with their steps and suppressed matches (one D1 batch per chunk). */
async function deleteRuns(db: Db, cutoff: string, limits: RetentionLimits): Promise<number> {
  return inChunks(limits, async () => {
    const ids = await db.all<{ id: string }>(sql`
      select r.id from runs r
      where r.started_at < ${cutoff} and not ${LIVE_RUN}
      order by r.started_at limit ${limits.chunk}`);
    if (ids.length === 0) return 0;
    const list = ids.map((row) => row.id);
    await db.batch([
      db.delete(runSteps).where(inJson(runSteps.runId, list)),
      deleteSuppressedOf(db, inJson(suppressedEvents.runId, list)),
      db.delete(runs).where(inJson(runs.id, list)),
    ]);
    return ids.length;
  });
}

/** Handled events published before `cutoff` that no live run refers to. */
async function deleteEvents(db: Db, cutoff: string, limits: RetentionLimits): Promise<number> {
  return inChunks(limits, async () => {
    const result = await db.run(sql`
      delete from events where uuid in (
        select e.uuid from events e
        where e.event_date < ${cutoff} and e.consumed_at is not null
          and e.uuid not in (select r.trigger_event_uuid from runs r where ${LIVE_RUN})
          and e.uuid not in (
            select json_extract(s.output, '$.eventUuid') from run_steps s join runs r on r.id = s.run_id
            where s.kind = 'event' and ${LIVE_RUN} and json_extract(s.output, '$.eventUuid') is not null)
        order by e.event_date limit ${limits.chunk})`);
    return result.meta.changes;
  });
}

/**
 * Rows of a table with no references into it, written before `cutoff` by `time`,
 * deleted by `key` in chunks. The names are this file's constants, never input.
 */
async function deleteOlder(
  db: Db,
  table: { name: string; key: string; time: string },
  cutoff: string,
  limits: RetentionLimits,
): Promise<number> {
  const [name, key, time] = [sql.raw(table.name), sql.raw(table.key), sql.raw(table.time)];
  return inChunks(limits, async () => {
    const result = await db.run(sql`
      delete from ${name} where ${key} in (
        select ${key} from ${name} where ${time} < ${cutoff} order by ${time} limit ${limits.chunk})`);
    return result.meta.changes;
  });
}

/** Deliveries: a retry of one that old would no longer be recognised (Okta retries within hours). */
const DELIVERIES = { name: "deliveries", key: "event_id", time: "received_at" };
/**
 * Dead letters. An abandoned event's own row stays (it is not consumed, so deleteEvents
 * keeps it, marked `abandoned_at`); its letter goes with the rest.
 */
const DEAD_LETTERS = { name: "dead_letters", key: "id", time: "received_at" };
/**
 * Replay marks: they only stop one replay from starting the same (workflow, event) run
 * twice, and that run is itself past retention by then.
 */
const REPLAY_MARKS = { name: "replayed_runs", key: "rowid", time: "requested_at" };

export interface RetentionResult {
  runs: number;
  events: number;
  deliveries: number;
  deadLetters: number;
  replayMarks: number;
  /** Suppression windows that had ended. */
  windows: number;
}

/**
 * One retention pass at `now`. Runs go first, so that the events only they referred
 * to can go in the same pass. Idempotent; an interrupted pass is finished by the next.
 */
export async function applyRetention(
  db: Db,
  env: Pick<Env, "RETENTION_DAYS">,
  now: Date,
  limits: RetentionLimits = RETENTION_LIMITS,
): Promise<RetentionResult | null> {
  const days = retentionDays(env.RETENTION_DAYS);
  if (days === 0) return null;
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const runs = await deleteRuns(db, cutoff, limits);
  const events = await deleteEvents(db, cutoff, limits);
  const deliveries = await deleteOlder(db, DELIVERIES, cutoff, limits);
  const deadLetters = await deleteOlder(db, DEAD_LETTERS, cutoff, limits);
  const replayMarks = await deleteOlder(db, REPLAY_MARKS, cutoff, limits);
  const windows = await inChunks(limits, () => deleteEndedWindows(db, now, limits.chunk));
  const result = { runs, events, deliveries, deadLetters, replayMarks, windows };
  if (runs + events + deliveries + deadLetters + replayMarks + windows > 0)
    logInfo("retention: deleted", { ...result, retentionDays: days, cutoff });
  return result;
}
