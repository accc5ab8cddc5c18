/**
 * D1 tables (drizzle). Migrations in migrations/ are generated from this file with
 * `npm run db:generate`; never edit them by hand.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { EventFields } from "../okta/event-fields";
import type { Actor } from "../okta/normalise";
import type { CountedEvents } from "../workflows/threshold";

/** One row per Okta delivery (envelope `eventId`); a redelivery finds its row and changes nothing. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    eventId: text("event_id").primaryKey(),
    /** Okta's envelope `source`: the URL of the Okta hook that sent it (not our named source, see events.source). */
    source: text("source"),
    eventTime: text("event_time"),
    receivedAt: text("received_at").notNull(),
    eventCount: integer("event_count").notNull(),
  },
  // The last delivery (overview, /api/status) and retention both look deliveries up by time.
  (t) => [index("deliveries_by_received").on(t.receivedAt)],
);

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
    /** The named Okta org (OKTA_SOURCES) whose hook path brought it; null for /hooks/okta and for rows stored before. */
    source: text("source"),
    inCategory: integer("in_category", { mode: "boolean" }).notNull(),
    actor: text("actor", { mode: "json" }).$type<Actor | null>(),
    /** `client.ipAddress` (okta/event-context.ts); null for rows stored before it was kept. */
    clientIp: text("client_ip"),
    outcomeReason: text("outcome_reason"),
    displayMessage: text("display_message"),
    raw: text("raw", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /**
     * When the event was (last) handed to the queue. Written with the row, in the same
     * D1 batch, so accepting a delivery costs one D1 round trip; cleared again if the
     * send fails. The cron re-sends events the consumer has not handled: soon when
     * this is null, later when it is set (a message lost after the send).
     */
    enqueuedAt: text("enqueued_at"),
    /** Set when the queue consumer has handled the event. */
    consumedAt: text("consumed_at"),
    /** How many times the cron has re-sent the event and the send went through; failed sends do not count. */
    requeueCount: integer("requeue_count").notNull().default(0),
    /**
     * When the cron gave up re-sending the event (MAX_REQUEUES sends, never handled) and
     * recorded it as a dead letter instead; the cron no longer scans it. A re-drive clears it.
     */
    abandonedAt: text("abandoned_at"),
  },
  (t) => [
    index("events_by_date").on(t.eventDate, t.uuid),
    index("events_by_type_date").on(t.eventType, t.eventDate, t.uuid),
    index("events_by_asset_date").on(t.assetId, t.eventDate, t.uuid),
    index("events_by_source_date").on(t.source, t.eventDate, t.uuid),
    index("events_not_consumed").on(t.eventTimestamp).where(sql`${t.consumedAt} is null and ${t.abandonedAt} is null`),
  ],
);

export type EventRow = typeof events.$inferSelect;
export type NewEventRow = typeof events.$inferInsert;

/** A workflow: its identity and switches. Its definitions live in workflow_versions. */
export const workflows = sqliteTable("workflows", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  currentVersion: integer("current_version").notNull(),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
  /** Soft delete: runs keep pointing at the versions they ran. */
  deletedAt: text("deleted_at"),
});

/** Every saved definition, immutable; a run is pinned to one of these. */
export const workflowVersions = sqliteTable(
  "workflow_versions",
  {
    workflowId: text("workflow_id").notNull(),
    version: integer("version").notNull(),
    definition: text("definition", { mode: "json" }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

/**
 * The trigger index: one row per (event type, enabled workflow), rebuilt whenever a
 * workflow is saved, enabled, disabled or deleted, so the consumer never scans
 * every workflow to find the ones an event starts.
 */
export const workflowTriggers = sqliteTable(
  "workflow_triggers",
  {
    eventType: text("event_type").notNull(),
    workflowId: text("workflow_id").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventType, t.workflowId] }),
    index("workflow_triggers_by_workflow").on(t.workflowId),
  ],
);

/**
 * The event types some saved workflow version waits for at an event node ("*" for
 * any). Only these are handed to WaitRooms. Rows are never removed: a run keeps its
 * version, so a type stays wanted after the workflow changes or is disabled.
 */
export const waitedEventTypes = sqliteTable("waited_event_types", {
  eventType: text("event_type").primaryKey(),
});

/**
 * The rows of the cancel-on index: one per (event type, workflow, version) whose
 * `cancelOn` names the type. Per version because a run keeps its version's rule;
 * never removed (like waited_event_types), so a run of an old version or a disabled
 * workflow is still cancelled by the rule it started under.
 */
export const cancelOnTypes = sqliteTable(
  "cancel_on_types",
  {
    eventType: text("event_type").notNull(),
    workflowId: text("workflow_id").notNull(),
    version: integer("version").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventType, t.workflowId, t.version] })],
);

/** `cancelled`: ended by the workflow's cancel-on rule (runs.cancelled_by names the event); `terminated`: by an admin. */
export const RUN_STATUSES = [
  "running",
  "waiting",
  "completed",
  "failed",
  "timed_out",
  "terminated",
  "cancelled",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One run per (workflow, triggering event): the unique index makes starting a run idempotent. */
export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    workflowId: text("workflow_id").notNull(),
    workflowVersion: integer("workflow_version").notNull(),
    triggerEventUuid: text("trigger_event_uuid").notNull(),
    /** The trigger's Event Fields, kept with the run so executing it needs no read of the event. */
    trigger: text("trigger", { mode: "json" }).$type<EventFields>(),
    /** For a run a threshold started: the key, the count and the events counted (`{{ count.* }}`). */
    counted: text("counted", { mode: "json" }).$type<CountedEvents>(),
    assetId: text("asset_id"),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    /** What a waiting run waits for (types, filter, asset, deadline), for the API. */
    waitingFor: text("waiting_for", { mode: "json" }),
    error: text("error"),
    startedAt: text("started_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    endedAt: text("ended_at"),
    /** A consumer holds the run until this time while it executes steps, so two never run it at once. */
    leaseUntil: text("lease_until"),
    /**
     * The lease's owner: a token fresh for every attempt to execute the run. Every write a
     * holder makes names it (engine/fence.ts), so a holder whose lease was taken stops.
     */
    leaseOwner: text("lease_owner"),
    /** The queue message the lease was taken for: a retry of that same message may take the lease back at once. */
    leaseMessage: text("lease_message"),
    /** A deferred action (Retry-After, backoff) may not run before this; nothing executes the run earlier. */
    notBefore: text("not_before"),
    /**
     * The name of the WaitRoom (source and asset, see durable/wait-rooms.ts) that may hold a wait of this run. Written with the pause, before
     * the WaitRoom is called; cleared once the WaitRoom has let the wait go (acknowledged
     * its resume, or cancelled it). While set on an ended run, the cron cancels the wait.
     */
    waitRoom: text("wait_room"),
    /**
     * When the cron should next look at this run if nothing else has: a running run that
     * lost its message, a waiting run whose WaitRoom lost or resolved its wait, an ended
     * run whose wait is still open. Pushed forward by every step the run takes.
     */
    repairAfter: text("repair_after"),
    /** For a run ended `cancelled`: the uuid of the event whose cancel-on rule ended it. */
    cancelledBy: text("cancelled_by"),
  },
  (t) => [
    uniqueIndex("runs_by_trigger").on(t.workflowId, t.triggerEventUuid),
    index("runs_to_repair").on(t.repairAfter).where(sql`${t.repairAfter} is not null`),
    index("runs_by_started").on(t.startedAt, t.id),
    index("runs_by_status").on(t.status, t.startedAt),
    index("runs_by_asset").on(t.assetId, t.startedAt),
    // Cancel-on finds a workflow's active runs on one asset without scanning the workflow's history.
    index("runs_by_workflow_asset").on(t.workflowId, t.assetId, t.status),
    // An event's page lists the runs it cancelled; only cancelled runs have a row here.
    index("runs_cancelled_by").on(t.cancelledBy).where(sql`${t.cancelledBy} is not null`),
  ],
);

/** The run's path: one row per node it reached, in order, with outcome and output. */
export const runSteps = sqliteTable(
  "run_steps",
  {
    runId: text("run_id").notNull(),
    nodeId: text("node_id").notNull(),
    seq: integer("seq").notNull(),
    kind: text("kind", { enum: ["action", "condition", "event"] }).notNull(),
    status: text("status", { enum: ["running", "succeeded", "failed", "waiting", "terminated"] }).notNull(),
    /** The branch taken: "next", "true", "false" or "timeout". */
    outcome: text("outcome"),
    output: text("output", { mode: "json" }),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    startedAt: text("started_at").notNull(),
    endedAt: text("ended_at"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId] })],
);

export type WorkflowRow = typeof workflows.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type RunStepRow = typeof runSteps.$inferSelect;

/**
 * The (workflow, event) pairs a replay asked for: a run with this workflow and trigger
 * event is a replayed run. Kept apart from `runs` so the engine needs no change: the
 * replay writes these, then re-enqueues the events, and the consumer starts the runs as
 * usual (once per pair, by `runs_by_trigger`).
 */
export const replayedRuns = sqliteTable(
  "replayed_runs",
  {
    workflowId: text("workflow_id").notNull(),
    triggerEventUuid: text("trigger_event_uuid").notNull(),
    replayId: text("replay_id").notNull(),
    requestedAt: text("requested_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.triggerEventUuid] }), index("replayed_runs_by_replay").on(t.replayId)],
);

/**
 * Messages the events queue gave up on, recorded by the dead-letter queue's consumer
 * (dead-letters.ts) so that someone can read, re-drive or discard them. Keyed by the
 * dead-letter message's own ID: a letter delivered twice is recorded once.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    /** Why the consumer rejected it, or that the queue ran out of retries. */
    reason: text("reason").notNull(),
    /** The original message body, as the consumer received it. */
    body: text("body", { mode: "json" }).$type<unknown>(),
    /** The original message's ID and attempts, when the consumer sent the letter itself. */
    messageId: text("message_id"),
    attempts: integer("attempts"),
    receivedAt: text("received_at").notNull(),
    /** When it was last sent back to the events queue; null until then. */
    redrivenAt: text("redriven_at"),
  },
  (t) => [index("dead_letters_by_received").on(t.receivedAt, t.id)],
);

export type DeadLetterRow = typeof deadLetters.$inferSelect;

/**
 * A dashboard sign-in with the admin token (ui/session.ts). The cookie carries a random
 * id; the row is keyed by its SHA-256, so reading this table gives no usable cookie.
 * Deleting the row ends the session: sign-out, "sign out everywhere", and the cron for
 * sessions that expired or were made under a previous ADMIN_TOKEN. No index beyond the
 * key: a session is read by its id, and the cron's delete scans a table of live sign-ins.
 */
export const sessions = sqliteTable("sessions", {
  /** SHA-256 (hex) of the id in the cookie. */
  id: text("id").primaryKey(),
  /** SHA-256 (hex) of the ADMIN_TOKEN it was made under: a rotated token no longer matches. */
  tokenHash: text("token_hash").notNull(),
  createdAt: text("created_at").notNull(),
  /** The last request seen with it, written at most once a minute. */
  lastSeenAt: text("last_seen_at").notNull(),
  /** The absolute end, however active the session is. */
  expiresAt: text("expires_at").notNull(),
  /** It ends this many seconds after last_seen_at. */
  idleSeconds: integer("idle_seconds").notNull(),
});

export type SessionRow = typeof sessions.$inferSelect;

/**
 * Suppression windows (workflows/suppression.ts): per workflow and scope (the event's
 * source and rendered key, see SuppressionSlot), the run that fired last and until when
 * further matches are suppressed. Taken in the transaction that starts runs
 * (db/suppressions.ts): a slot whose `until` has passed is taken over by the next match.
 */
export const suppressions = sqliteTable(
  "suppressions",
  {
    workflowId: text("workflow_id").notNull(),
    scope: text("scope").notNull(),
    /** The run that opened the window, and its trigger event. */
    runId: text("run_id").notNull(),
    eventUuid: text("event_uuid").notNull(),
    startedAt: text("started_at").notNull(),
    until: text("until").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workflowId, t.scope] }),
    // Retention deletes ended windows; a run's page looks up the window it holds.
    index("suppressions_by_until").on(t.until),
    index("suppressions_by_run").on(t.runId),
  ],
);

/**
 * Matches that started no run because a window was open: one row per (workflow, event),
 * so a redelivered event counts once, pointing at the run whose window suppressed it.
 */
export const suppressedEvents = sqliteTable(
  "suppressed_events",
  {
    workflowId: text("workflow_id").notNull(),
    eventUuid: text("event_uuid").notNull(),
    runId: text("run_id").notNull(),
    suppressedAt: text("suppressed_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.workflowId, t.eventUuid] }),
    index("suppressed_events_by_run").on(t.runId, t.suppressedAt),
    // A replay asks which of its events were suppressed, for any workflow.
    index("suppressed_events_by_event").on(t.eventUuid),
  ],
);
