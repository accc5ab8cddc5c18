/** Queries on deliveries and events. Every verb takes the drizzle instance first. */
import { and, desc, eq, getTableColumns, gte, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { NormalisedEvent } from "../okta/normalise";
import type { Db } from "./client";
import { toEventRow } from "./event-rows";
import { deliveries, events, type NewEventRow } from "./schema";

/**
 * Event rows go to D1 as one JSON array in one bound parameter, unpacked by json_each,
 * so a delivery of any size is one INSERT. (Binding each value would allow only 6 rows
 * per statement under D1's 100-parameter limit, and building those statements cost
 * more CPU than storing the rows.) Arrays are split so that each bound value stays far
 * below D1's 2 MB limit for one value, even in UTF-8.
 */
const MAX_ROWS_JSON_CHARS = 512 * 1024;
const EVENT_COLUMNS = Object.entries(getTableColumns(events));
/** `value->>'uuid', value->>'delivery_id', …` in table order. A column a row leaves out is NULL (none has a default). */
const SELECT_EVENT_COLUMNS = sql.raw(EVENT_COLUMNS.map(([, column]) => `value->>'${column.name}'`).join(", "));

/** One row as a JSON object of driver values (what drizzle would bind), keyed by column name. */
function rowJson(row: NewEventRow): string {
  const values: Record<string, unknown> = {};
  for (const [key, column] of EVENT_COLUMNS) {
    const value = row[key as keyof NewEventRow];
    if (value != null) values[column.name] = column.mapToDriverValue(value);
  }
  return JSON.stringify(values);
}

/** Row objects joined into JSON arrays of at most MAX_ROWS_JSON_CHARS characters each. */
function rowArrays(rows: readonly string[]): string[] {
  const arrays: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const row of rows) {
    if (current.length > 0 && size + row.length > MAX_ROWS_JSON_CHARS) {
      arrays.push(`[${current.join(",")}]`);
      current = [];
      size = 0;
    }
    current.push(row);
    size += row.length + 1;
  }
  if (current.length > 0) arrays.push(`[${current.join(",")}]`);
  return arrays;
}

export interface DeliveryRecord {
  eventId: string;
  source: string | null;
  eventTime: string | null;
  receivedAt: string;
}

/**
 * Stores a delivery and its events in one D1 batch (one transaction: all or nothing).
 * Idempotent: a known delivery or event uuid is left as it is. Returns the uuids
 * that were new, which are the ones still to be enqueued.
 */
export async function storeDelivery(
  db: Db,
  delivery: DeliveryRecord,
  normalised: NormalisedEvent[],
): Promise<string[]> {
  const insertDelivery = db
    .insert(deliveries)
    .values({ ...delivery, eventCount: normalised.length })
    .onConflictDoNothing();
  const inserts = rowArrays(normalised.map((event) => rowJson(toEventRow(event)))).map((json) =>
    db
      .insert(events)
      .select(sql`select ${SELECT_EVENT_COLUMNS} from json_each(${json}) where true`)
      .onConflictDoNothing()
      .returning({ uuid: events.uuid }),
  );
  const [, ...inserted] = await db.batch([insertDelivery, ...inserts]);
  return inserted.flat().map((row) => row.uuid);
}

/** `uuid IN (…)` with one bound parameter, however many uuids (D1's parameter limit). */
function uuidIn(uuids: readonly string[]) {
  return sql`${events.uuid} in (select value from json_each(${JSON.stringify(uuids)}))`;
}

/** Records that these events are on the queue. */
export async function markEnqueued(db: Db, uuids: readonly string[], at: Date): Promise<void> {
  if (uuids.length === 0) return;
  await db.update(events).set({ enqueuedAt: at.toISOString() }).where(uuidIn(uuids));
}

/** Records that the consumer has handled the event. Idempotent: the first time wins. */
export async function markConsumed(db: Db, uuid: string, at: Date): Promise<void> {
  await db
    .update(events)
    .set({ consumedAt: at.toISOString() })
    .where(and(eq(events.uuid, uuid), isNull(events.consumedAt)));
}

/** Events stored before `before` that never reached the queue, oldest first. */
export async function findStranded(db: Db, before: Date, limit: number) {
  return db
    .select()
    .from(events)
    .where(and(isNull(events.enqueuedAt), lt(events.eventTimestamp, before.toISOString())))
    .orderBy(events.eventTimestamp)
    .limit(limit);
}

export interface EventQuery {
  eventType?: string;
  assetId?: string;
  since?: string;
  until?: string;
  /** Continue after this (eventDate, uuid) position, newest first. */
  after?: { eventDate: string; uuid: string };
  limit: number;
}

/** Events newest first (by Okta's `published`), filtered, one page at a time. */
export async function listEvents(db: Db, query: EventQuery) {
  const conditions = [
    query.eventType ? eq(events.eventType, query.eventType) : undefined,
    query.assetId ? eq(events.assetId, query.assetId) : undefined,
    query.since ? gte(events.eventDate, query.since) : undefined,
    query.until ? lte(events.eventDate, query.until) : undefined,
    query.after
      ? or(
          lt(events.eventDate, query.after.eventDate),
          and(eq(events.eventDate, query.after.eventDate), lt(events.uuid, query.after.uuid)),
        )
      : undefined,
  ];
  return db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.eventDate), desc(events.uuid))
    .limit(query.limit);
}

export async function getEvent(db: Db, uuid: string) {
  return db.select().from(events).where(eq(events.uuid, uuid)).get();
}
