/** Queries on deliveries and events. Every verb takes the drizzle instance first. */
import { and, asc, desc, eq, getTableColumns, gte, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { NormalisedEvent } from "../okta/normalise";
import type { Db } from "./client";
import { runWrites } from "./compiled";
import { deliveryWrites } from "./delivery-writes";
import { toEventRow } from "./event-rows";
import { inJson } from "./in-json";
import { olderThan } from "./keyset";
import { type DeadLetterRow, deadLetters, events } from "./schema";

export interface DeliveryRecord {
  eventId: string;
  source: string | null;
  eventTime: string | null;
  receivedAt: string;
}

/**
 * Stores a delivery and its events in one D1 batch (one transaction: all or nothing).
 * Idempotent: a known delivery or event uuid is left as it is. Returns the uuids
 * that were new, which are the ones still to be enqueued (none, when `storeOnly`).
 * Runs on D1 itself, with statements compiled once (delivery-writes.ts): the hook's path.
 */
export async function storeDelivery(
  d1: D1Database,
  delivery: DeliveryRecord,
  normalised: NormalisedEvent[],
  { storeOnly = false }: { storeOnly?: boolean } = {},
): Promise<string[]> {
  // A store-only event is never sent to the queue, and counts as handled from the start:
  // the cron has nothing to re-send and the backlog figures do not count it.
  const rows = normalised.map((event) =>
    storeOnly ? { ...toEventRow(event), enqueuedAt: null, consumedAt: delivery.receivedAt } : toEventRow(event),
  );
  const [, ...inserted] = await runWrites(d1, deliveryWrites({ ...delivery, eventCount: normalised.length }, rows));
  return inserted.flat().map((row) => (row as { uuid: string }).uuid);
}

/** Records that the send of these events failed, so the cron re-sends them after a short grace period. */
export async function clearEnqueued(db: Db, uuids: readonly string[]): Promise<void> {
  if (uuids.length === 0) return;
  await db.update(events).set({ enqueuedAt: null }).where(inJson(events.uuid, uuids));
}

/**
 * Records the cron's attempt to re-send these events. Only a send that went through
 * counts towards the limit (a Queues outage must not use up an event's re-sends): a
 * sent one is looked at again after the lost-message delay, one whose send failed
 * after the short unsent grace.
 */
export async function markRequeued(db: Db, attempts: ReadonlyArray<{ uuid: string; sent: boolean }>, at: Date) {
  const sent = attempts.filter((a) => a.sent).map((a) => a.uuid);
  const unsent = attempts.filter((a) => !a.sent).map((a) => a.uuid);
  if (attempts.length === 0) return;
  await db.batch([
    db
      .update(events)
      .set({ enqueuedAt: at.toISOString(), requeueCount: sql`${events.requeueCount} + 1` })
      .where(inJson(events.uuid, sent)),
    db.update(events).set({ enqueuedAt: null }).where(inJson(events.uuid, unsent)),
  ]);
}

/**
 * The cron gives up on these events (re-sent the most times, never handled): each is
 * recorded as a dead letter (listed, re-drivable and counted by /api/status) and
 * marked abandoned, in one transaction, so an event is never dropped unrecorded.
 */
export async function abandonEvents(
  db: Db,
  letters: ReadonlyArray<{ uuid: string; letter: DeadLetterRow }>,
  at: Date,
): Promise<void> {
  const [first, ...rest] = letters.flatMap(({ uuid, letter }) => [
    db.insert(deadLetters).values(letter).onConflictDoNothing(),
    db
      .update(events)
      .set({ abandonedAt: at.toISOString() })
      .where(and(eq(events.uuid, uuid), isNull(events.consumedAt))),
  ]);
  if (first) await db.batch([first, ...rest]);
}

/** A re-driven event is the cron's to watch again, with its re-sends counted afresh. */
export async function unabandonEvent(db: Db, uuid: string): Promise<void> {
  await db.update(events).set({ abandonedAt: null, requeueCount: 0 }).where(eq(events.uuid, uuid));
}

/** Records that the consumer has handled these events (a statement for a batch). Idempotent: the first time wins. */
export function markConsumed(db: Db, uuids: readonly string[], at: Date) {
  if (uuids.length === 0) return [];
  return [
    db
      .update(events)
      .set({ consumedAt: at.toISOString() })
      .where(and(inJson(events.uuid, uuids), isNull(events.consumedAt))),
  ];
}

export interface StrandedQuery {
  /** Not sent (the send failed) and stored before this. */
  unsentBefore: Date;
  /** Sent before this, yet still not handled by the consumer: the message was lost. */
  sentBefore: Date;
  limit: number;
}

/** Events the consumer has not handled and should have by now, oldest first; abandoned ones are not looked at again. */
export async function findStranded(db: Db, query: StrandedQuery) {
  return db
    .select()
    .from(events)
    .where(
      and(
        isNull(events.consumedAt),
        isNull(events.abandonedAt),
        lt(events.eventTimestamp, query.unsentBefore.toISOString()),
        or(isNull(events.enqueuedAt), lt(events.enqueuedAt, query.sentBefore.toISOString())),
      ),
    )
    .orderBy(events.eventTimestamp)
    .limit(query.limit);
}

export interface EventQuery {
  eventType?: string;
  assetId?: string;
  eventResult?: string;
  /** A named Okta org of OKTA_SOURCES. */
  source?: string;
  since?: string;
  until?: string;
  /** Continue after this (eventDate, uuid) position, newest first. */
  after?: { eventDate: string; uuid: string };
  limit: number;
}

/** Every column but the raw Okta event, which list pages do not show and which is most of a row's size. */
const { raw: _raw, ...SUMMARY_COLUMNS } = getTableColumns(events);

/** Events newest first (by Okta's `published`), filtered, one page at a time, without their raw payload. */
export async function listEvents(db: Db, query: EventQuery) {
  const conditions = [
    query.eventType ? eq(events.eventType, query.eventType) : undefined,
    query.assetId ? eq(events.assetId, query.assetId) : undefined,
    query.eventResult ? eq(events.eventResult, query.eventResult) : undefined,
    query.source ? eq(events.source, query.source) : undefined,
    query.since ? gte(events.eventDate, query.since) : undefined,
    query.until ? lte(events.eventDate, query.until) : undefined,
    olderThan(events.eventDate, events.uuid, query.after && { time: query.after.eventDate, id: query.after.uuid }),
  ];
  return db
    .select(SUMMARY_COLUMNS)
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.eventDate), desc(events.uuid))
    .limit(query.limit);
}

/** Several events by uuid, in one query. */
export async function getEvents(db: Db, uuids: readonly string[]) {
  if (uuids.length === 0) return [];
  return db.select().from(events).where(inJson(events.uuid, uuids));
}

export async function getEvent(db: Db, uuid: string) {
  return db.select().from(events).where(eq(events.uuid, uuid)).get();
}

/** `select … from events` without the raw JSON (the largest column), for queries that list many. */
export function selectEventsWithoutRaw(db: Db) {
  const { raw: _raw, ...columns } = getTableColumns(events);
  return db.select(columns).from(events);
}

/** Stored events of one org published in [from, to], oldest first, at most `limit` (a threshold's dry run). */
export async function listPublishedBetween(
  db: Db,
  query: { source: string | null; from: string; to: string; limit: number },
) {
  return selectEventsWithoutRaw(db)
    .where(
      and(
        query.source === null ? isNull(events.source) : eq(events.source, query.source),
        gte(events.eventDate, query.from),
        lte(events.eventDate, query.to),
      ),
    )
    .orderBy(asc(events.eventDate), asc(events.uuid))
    .limit(query.limit);
}
