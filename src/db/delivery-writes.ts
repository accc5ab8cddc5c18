/**
 * The hook's writes: a delivery's row and its events' rows, compiled once (compiled.ts)
 * and bound per delivery. Built by drizzle per request, these inserts were 40% of the
 * hook's CPU for a 50-event delivery and 20% for a 1-event one (bench/README.md, Ingress):
 * drizzle walks every value of every row. An events insert is compiled once per row count
 * (1 to EVENT_ROWS_PER_INSERT), so a delivery of any size binds only ready statements.
 */

import { type CompileDb, compiled, jsonText, type Slot, type Write } from "./compiled";
import type { NewEventRow } from "./schema";
import { deliveries, events } from "./schema";

/** D1 allows at most 100 bound parameters per statement. */
const MAX_PARAMS = 100;

export interface DeliveryValues extends Record<string, unknown> {
  eventId: string;
  source: string | null;
  eventTime: string | null;
  receivedAt: string;
  eventCount: number;
}

/** The event columns a delivery writes; the others (requeue count, abandoned) take their defaults. */
const EVENT_COLUMNS = [
  "uuid",
  "deliveryId",
  "assetId",
  "assetType",
  "assetAlternateId",
  "assetDisplayName",
  "eventType",
  "eventResult",
  "eventDate",
  "eventTimestamp",
  "source",
  "inCategory",
  "actor",
  "clientIp",
  "outcomeReason",
  "displayMessage",
  "raw",
  "enqueuedAt",
  "consumedAt",
] as const satisfies ReadonlyArray<keyof NewEventRow>;

type EventColumn = (typeof EVENT_COLUMNS)[number];

/** A known delivery is left as it is (idempotent redelivery). */
const insertDelivery = compiled<DeliveryValues>((db, p) =>
  db
    .insert(deliveries)
    .values({
      eventId: p("eventId"),
      source: p("source"),
      eventTime: p("eventTime"),
      receivedAt: p("receivedAt"),
      eventCount: p("eventCount"),
    })
    .onConflictDoNothing(),
);

/** `rows` event rows, their values named `<column>_<row>`; a known uuid is left as it is, and only new ones are returned. */
function buildEventsInsert(db: CompileDb, p: Slot<Record<string, unknown>>, rows: number) {
  const row = (i: number) =>
    Object.fromEntries(EVENT_COLUMNS.map((column) => [column, p(`${column}_${i}`)])) as unknown as NewEventRow;
  return db
    .insert(events)
    .values(Array.from({ length: rows }, (_, i) => row(i)))
    .onConflictDoNothing()
    .returning({ uuid: events.uuid });
}

const eventInserts = new Map<number, (values: Record<string, unknown>) => Write>();

function eventsInsert(rows: number) {
  let write = eventInserts.get(rows);
  if (!write) {
    write = compiled<Record<string, unknown>>((db, p) => buildEventsInsert(db, p, rows));
    eventInserts.set(rows, write);
  }
  return write;
}

/** As many rows as fit in one statement: each binds its written columns, plus drizzle's bound defaults. */
export const EVENT_ROWS_PER_INSERT = Math.floor(
  MAX_PARAMS / eventsInsert(1)(Object.fromEntries(EVENT_COLUMNS.map((column) => [`${column}_0`, null]))).params.length,
);

/** A column's value as bound: unset as null, JSON columns as text, booleans as 0/1 (as drizzle's own mapping writes them). */
function bound(column: EventColumn, row: NewEventRow): unknown {
  const value = row[column] ?? null;
  if (column === "actor" || column === "raw") return jsonText(value);
  if (column === "inCategory") return value ? 1 : 0;
  return value;
}

/**
 * The statements of a delivery, for one D1 batch: its row, then its events
 * EVENT_ROWS_PER_INSERT at a time (each returning the uuids it inserted).
 */
export function deliveryWrites(delivery: DeliveryValues, rows: readonly NewEventRow[]): Write[] {
  const writes = [insertDelivery(delivery)];
  for (let start = 0; start < rows.length; start += EVENT_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + EVENT_ROWS_PER_INSERT);
    const values: Record<string, unknown> = {};
    chunk.forEach((row, i) => {
      for (const column of EVENT_COLUMNS) values[`${column}_${i}`] = bound(column, row);
    });
    writes.push(eventsInsert(chunk.length)(values));
  }
  return writes;
}
