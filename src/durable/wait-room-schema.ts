/** The WaitRoom's SQLite tables. Created on every start; `IF NOT EXISTS` keeps it idempotent. */
export const WAIT_ROOM_SCHEMA = `
CREATE TABLE IF NOT EXISTS waits (
  run_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  asset_id TEXT,
  event_types TEXT NOT NULL,
  filter TEXT,
  after_uuid TEXT NOT NULL,
  after_date TEXT NOT NULL,
  deadline INTEGER,
  created_at INTEGER NOT NULL,
  resolution TEXT,
  sent_at INTEGER,
  send_count INTEGER NOT NULL DEFAULT 0,
  next_send_at INTEGER,
  PRIMARY KEY (run_id, node_id)
);
CREATE INDEX IF NOT EXISTS waits_open_by_deadline ON waits (deadline) WHERE resolution IS NULL;
CREATE TABLE IF NOT EXISTS wait_types (
  event_type TEXT NOT NULL,
  run_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  PRIMARY KEY (event_type, run_id, node_id)
);
-- A resolved or cancelled wait forgets its types by (run, node): without this, each such
-- delete scans every type row of the room (quadratic when hundreds of waits resolve at once).
CREATE INDEX IF NOT EXISTS wait_types_by_wait ON wait_types (run_id, node_id);
CREATE TABLE IF NOT EXISTS recent_events (
  uuid TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  event_date TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS recent_events_by_received ON recent_events (received_at);
CREATE TABLE IF NOT EXISTS cancelled_runs (
  run_id TEXT PRIMARY KEY,
  cancelled_at INTEGER NOT NULL
);
`;

/** Columns added after the first deploy: objects created then get them on their next start. */
export const WAIT_ROOM_ADDED_COLUMNS: ReadonlyArray<[table: string, column: string, definition: string]> = [
  ["waits", "asset_id", "TEXT"],
  ["waits", "send_count", "INTEGER NOT NULL DEFAULT 0"],
  ["waits", "next_send_at", "INTEGER"],
  // The room's own name (source and asset), which resume messages carry back to be acknowledged here.
  ["waits", "room", "TEXT"],
  // The named Okta org the run belongs to: only its events may resume it. NULL in rows of older deploys.
  ["waits", "source", "TEXT"],
  // JSON array of the event uuids the run has already taken (its trigger, each resumption).
  ["waits", "seen", "TEXT"],
];

/**
 * Indexes on added columns: created after WAIT_ROOM_ADDED_COLUMNS, so that an object
 * created by an older deploy has the column first. What is due to (re-)send is read by
 * sendDue and scheduleAlarm on every call.
 */
export const WAIT_ROOM_LATE_INDEXES = `
CREATE INDEX IF NOT EXISTS waits_resolved_by_send ON waits (next_send_at) WHERE resolution IS NOT NULL;
`;
