/**
 * The hook's writes: a delivery's row and its events' rows, compiled once (compiled.ts)
 * and bound per delivery. Built by drizzle per request, these inserts were 40% of the
 * hook's CPU for a 50-event delivery and 20% for a 1-event one (bench/README.md, Ingress):
 * drizzle walks every value of every row. An events insert is compiled once per row count
 * (1 to EVENT_ROWS_PER_INSERT) and bound by position, so a delivery of any size binds
 * ready statements, column by column, with no per-value lookups.
 */
import { is, Placeholder, sql } from "drizzle-orm";
import { compiled, compiledQuery, jsonText, type Write } from "./compiled";
import { deliveries, events, type NewEventRow } from "./schema";

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

/** Where a parameter's value comes from: a column of one of the statement's rows, or a constant drizzle bound (a default). */
type Binding = { row: number; column: EventColumn } | { value: unknown };

interface EventsInsert {
  sql: string;
  bindings: Binding[];
}

/** `rows` event rows, placeholders named `<row>:<column>`; a known uuid is left as it is, and only new ones are returned. */
function buildEventsInsert(rows: number): EventsInsert {
  const row = (i: number) =>
    Object.fromEntries(
      EVENT_COLUMNS.map((column) => [column, sql`${sql.placeholder(`${i}:${column}`) as Placeholder}`]),
    ) as unknown as NewEventRow;
  const query = compiledQuery((db) =>
    db
      .insert(events)
      .values(Array.from({ length: rows }, (_, i) => row(i)))
      .onConflictDoNothing()
      .returning({ uuid: events.uuid }),
  )();
  const bindings = query.params.map((param): Binding => {
    if (!is(param, Placeholder)) return { value: param };
    const [at, column] = param.name.split(":") as [string, EventColumn];
    return { row: Number(at), column };
  });
  return { sql: query.sql, bindings };
}

const eventInserts = new Map<number, EventsInsert>();

function eventsInsert(rows: number): EventsInsert {
  let insert = eventInserts.get(rows);
  if (!insert) {
    insert = buildEventsInsert(rows);
    eventInserts.set(rows, insert);
  }
  return insert;
}

/** As many rows as fit in one statement: each binds its written columns, plus drizzle's bound defaults. */
export const EVENT_ROWS_PER_INSERT = Math.floor(MAX_PARAMS / eventsInsert(1).bindings.length);

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
    const { sql: text, bindings } = eventsInsert(chunk.length);
    const params = bindings.map((b) => ("value" in b ? b.value : bound(b.column, chunk[b.row] as NewEventRow)));
    writes.push({ sql: text, params });
  }
  return writes;
}
