/**
 * D1 tables (drizzle). Migrations in migrations/ are generated from this file with
 * `npm run db:generate`; never edit them by hand.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per Okta delivery (envelope `eventId`); a redelivery finds its row and changes nothing. */
export const deliveries = sqliteTable("deliveries", {
  eventId: text("event_id").primaryKey(),
  source: text("source"),
  eventTime: text("event_time"),
  receivedAt: text("received_at").notNull(),
  eventCount: integer("event_count").notNull(),
});

/** One row per Okta System Log event (`uuid`), with its Event Fields in columns for filtering. */
export const events = sqliteTable(
  "events",
  {
    uuid: text("uuid").primaryKey(),
    deliveryId: text("delivery_id").notNull(),
    assetId: text("asset_id"),
    assetType: text("asset_type"),
    assetAlternateId: text("asset_alternate_id"),
    assetDisplayName: text("asset_display_name"),
    eventType: text("event_type").notNull(),
    eventResult: text("event_result"),
    eventDate: text("event_date").notNull(),
    eventTimestamp: text("event_timestamp").notNull(),
    inCategory: integer("in_category", { mode: "boolean" }).notNull(),
    actor: text("actor", { mode: "json" }),
    outcomeReason: text("outcome_reason"),
    displayMessage: text("display_message"),
    raw: text("raw", { mode: "json" }).notNull(),
    /** Set once the event is on the queue; the cron re-enqueues rows where it stays null. */
    enqueuedAt: text("enqueued_at"),
    /** Set when the queue consumer has handled the event. */
    consumedAt: text("consumed_at"),
  },
  (t) => [
    index("events_by_date").on(t.eventDate, t.uuid),
    index("events_by_type_date").on(t.eventType, t.eventDate, t.uuid),
    index("events_by_asset_date").on(t.assetId, t.eventDate, t.uuid),
    index("events_not_enqueued").on(t.eventTimestamp).where(sql`${t.enqueuedAt} is null`),
  ],
);

export type EventRow = typeof events.$inferSelect;
export type NewEventRow = typeof events.$inferInsert;
