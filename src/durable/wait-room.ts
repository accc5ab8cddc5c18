/**
 * WaitRoom: one Durable Object per (source, asset) (wait-rooms.ts). It holds the runs paused on that asset,
 * a short buffer of the asset's recent events, and one alarm at the earliest
 * deadline. SQLite storage is the only state; nothing is mirrored in memory.
 *
 * Every wait is resolved at most once, by the first of: a matching event, the
 * timeout, or a cancel. The resolution is an outbox entry: written (with an alarm)
 * before the resume message is sent, and re-sent with backoff until the consumer
 * acknowledges that D1 has recorded it (`ack`), so neither a lost message nor a reset
 * of this object loses it. Storage holds open waits, unacknowledged resolutions, the
 * recent-event buffer and a day of cancel tombstones: live work plus a fixed window.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { describeIssue } from "../validation";
import { Predicate } from "../workflows/predicate";
import { firstAccepted, waitAccepts } from "./wait-match";
import { AssetEvent, type PausedRun, Resolution, WaitRequest, type WaitState } from "./wait-messages";
import { WAIT_ROOM_ADDED_COLUMNS, WAIT_ROOM_LATE_INDEXES, WAIT_ROOM_SCHEMA } from "./wait-room-schema";

/** How long, and how many, of an asset's events stay buffered for runs that start waiting late. */
export const BUFFER_WINDOW_MS = 60 * 60 * 1000;
export const BUFFER_MAX_EVENTS = 500;
/** The alarm is set this soon before a resume is sent, so a reset during the send still re-sends it. */
const RESEND_DELAY_MS = 5_000;
/** An unacknowledged resume is sent again after 1 min, 2, 4, 8, then every 15 min. */
export function resendDelayMs(sends: number): number {
  return Math.min(15 * 60_000, 60_000 * 2 ** Math.max(0, sends - 1));
}
/** A decision handed to deliver()'s caller is sent as a message only if no ack comes within this. */
export const HANDOFF_MS = 30_000;
/** deliver() hands at most this many decisions to its caller; the rest go by message. */
const Handoff = z.number().int().min(0).max(1000);

/** A wait decided by an event, handed to deliver()'s caller to apply. */
export interface WaitDecided {
  runId: string;
  nodeId: string;
  resolution: Resolution;
}

/** A cancelled run's tombstone is kept this long, so that a wait() already in flight is refused. */
export const TOMBSTONE_RETENTION_MS = 24 * 60 * 60 * 1000;

type WaitRow = {
  run_id: string;
  node_id: string;
  workflow_id: string;
  event_types: string;
  filter: string | null;
  after_uuid: string;
  after_date: string;
  deadline: number | null;
  created_at: number;
  resolution: string | null;
  room: string | null;
  source: string | null;
  seen: string | null;
};

/** A stored `source` column: NULL in rows of older deploys (match any), or the JSON of the source (null included). */
const StoredSource = z.string().nullable();
const StoredSeen = z.array(z.string());

const StoredTypes = z.array(z.string());
const AssetEvents = z.array(AssetEvent).min(1).max(1000);
const RunIds = z.union([z.string().min(1), z.array(z.string().min(1)).max(1000)]);
const WaitKeys = z.array(z.object({ runId: z.string().min(1), nodeId: z.string().min(1) })).max(1000);
const WaitRequests = z.array(WaitRequest).max(1000);

/** What reconcile() found for each wait the cron asked about. */
export type WaitCheck = { runId: string; state: "waiting" | "resolved" | "cancelled" };

/**
 * Validates an RPC argument. The error thrown is a plain Error naming the field: it
 * crosses the RPC boundary intact, where a ZodError would arrive as an opaque object.
 */
function parseInput<T>(schema: z.ZodType<T>, input: unknown, method: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new TypeError(`WaitRoom.${method}: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

/** Stored rows are parsed back through the same schemas they were written with. */
function criteriaOf(row: WaitRow) {
  return {
    eventTypes: StoredTypes.parse(JSON.parse(row.event_types)),
    filter: row.filter === null ? null : Predicate.parse(JSON.parse(row.filter)),
    after: { uuid: row.after_uuid, eventDate: row.after_date },
    source: row.source === null ? undefined : StoredSource.parse(JSON.parse(row.source)),
    seen: row.seen === null ? [] : StoredSeen.parse(JSON.parse(row.seen)),
    deadline: row.deadline,
  };
}

/** A stored row's criteria, or null (logged) for a row a later schema cannot read. */
function readableCriteria(row: WaitRow) {
  try {
    return criteriaOf(row);
  } catch (err) {
    console.error(
      JSON.stringify({
        msg: "unreadable wait dropped; the cron registers it again from D1",
        runId: row.run_id,
        error: String(err),
      }),
    );
    return null;
  }
}

export class WaitRoom extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(WAIT_ROOM_SCHEMA);
    for (const [table, column, definition] of WAIT_ROOM_ADDED_COLUMNS) {
      const present = this.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM pragma_table_info(?) WHERE name = ?", table, column)
        .one().n;
      if (present === 0) this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
    this.sql.exec(WAIT_ROOM_LATE_INDEXES);
  }

  /**
   * Pauses a run here until a matching later event or its deadline. Idempotent per
   * (run, node): a repeated call returns the existing wait, or how it was resolved,
   * so a caller that crashed after an earlier call can carry on. A buffered event
   * that already matches resolves the wait at once; a run cancelled here is refused. A
   * wait registered after its deadline (the call was late, or the trigger was) times
   * out at once unless an event it accepts, published before the deadline, is buffered.
   */
  async wait(input: unknown): Promise<WaitState> {
    // Resolved from the buffer, the caller applies the resolution at once and acks it:
    // the resume message is only the fallback, as for deliver()'s hand-off.
    const state = this.register(parseInput(WaitRequest, input, "wait"), Date.now() + HANDOFF_MS);
    await this.sendDue();
    return state;
  }

  /**
   * Events on this asset: buffered for later waits, and every open wait an event
   * matches is resolved with it (one event can resume many runs, each once).
   * Idempotent per event uuid: an event seen before is skipped. Up to `handoff` of the
   * decisions are handed back to the caller to apply at once (no queue hop); they stay
   * in the outbox and are sent as resume messages only if no ack comes within
   * HANDOFF_MS. The rest are sent now.
   */
  async deliver(
    input: unknown,
    handoffInput: unknown = 0,
  ): Promise<{ resumed: number; duplicates: number; handedOff: WaitDecided[] }> {
    const events = parseInput(AssetEvents, input, "deliver");
    const handoff = parseInput(Handoff, handoffInput, "deliver");
    const now = Date.now();
    const handedOff: WaitDecided[] = [];
    let resumed = 0;
    let duplicates = 0;
    for (const event of events) {
      const inserted = this.sql
        .exec(
          "INSERT INTO recent_events (uuid, event, event_date, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING uuid",
          event.uuid,
          JSON.stringify(event),
          event.fields.eventDate,
          now,
        )
        .toArray();
      if (inserted.length === 0) {
        duplicates += 1;
        continue;
      }
      const open = this.sql
        .exec<WaitRow>(
          `SELECT w.* FROM wait_types t JOIN waits w ON w.run_id = t.run_id AND w.node_id = t.node_id
           WHERE t.event_type IN (?, '*') AND w.resolution IS NULL`,
          event.fields.eventType,
        )
        .toArray();
      for (const row of open) {
        const criteria = readableCriteria(row);
        if (!criteria) {
          this.forgetWait(row.run_id, row.node_id);
          continue;
        }
        if (!waitAccepts(criteria, event)) continue;
        const resolution: Resolution = { kind: "event", event };
        const handOff = handedOff.length < handoff;
        if (this.resolve(row.run_id, row.node_id, resolution, handOff ? now + HANDOFF_MS : now)) {
          resumed += 1;
          if (handOff) handedOff.push({ runId: row.run_id, nodeId: row.node_id, resolution });
        }
      }
    }
    this.pruneBuffer(now);
    await this.sendDue();
    return { resumed, duplicates, handedOff };
  }

  /**
   * D1 has recorded these waits' resumes: forget them. Idempotent; the consumer calls
   * it after every resume it applies, including repeats.
   */
  async ack(input: unknown): Promise<number> {
    let removed = 0;
    for (const { runId, nodeId } of parseInput(WaitKeys, input, "ack")) removed += this.forgetWait(runId, nodeId);
    await this.scheduleAlarm();
    return removed;
  }

  /**
   * Removes the waits of terminated runs and keeps a tombstone for a day, so that a
   * wait() still in flight for them is refused. Idempotent. Returns how many open waits it removed.
   */
  async cancel(input: unknown): Promise<number> {
    const parsed = parseInput(RunIds, input, "cancel");
    const now = Date.now();
    let removed = 0;
    for (const runId of typeof parsed === "string" ? [parsed] : parsed) {
      removed += this.sql
        .exec("DELETE FROM waits WHERE run_id = ? AND resolution IS NULL RETURNING run_id", runId)
        .toArray().length;
      this.sql.exec("DELETE FROM waits WHERE run_id = ?", runId);
      this.sql.exec("DELETE FROM wait_types WHERE run_id = ?", runId);
      this.sql.exec("INSERT OR REPLACE INTO cancelled_runs (run_id, cancelled_at) VALUES (?, ?)", runId, now);
    }
    await this.scheduleAlarm();
    return removed;
  }

  /**
   * The cron's check of runs D1 has waiting here: a wait this object lost (a reset, a
   * call that never arrived) is registered again from D1's copy; a resolved one is
   * re-sent now. Idempotent.
   */
  async reconcile(input: unknown): Promise<WaitCheck[]> {
    const checks = parseInput(WaitRequests, input, "reconcile").map((request): WaitCheck => {
      const existing = this.findWait(request.runId, request.nodeId);
      if (existing?.resolution) {
        this.sql.exec(
          "UPDATE waits SET next_send_at = ? WHERE run_id = ? AND node_id = ?",
          Date.now(),
          request.runId,
          request.nodeId,
        );
      }
      const state = this.register(request);
      if (state.state === "waiting") return { runId: request.runId, state: "waiting" };
      return { runId: request.runId, state: state.resolution.kind === "cancelled" ? "cancelled" : "resolved" };
    });
    await this.sendDue();
    return checks;
  }

  /** The runs paused here, soonest deadline first. */
  async paused(): Promise<PausedRun[]> {
    return this.sql
      .exec<WaitRow>("SELECT * FROM waits WHERE resolution IS NULL ORDER BY deadline IS NULL, deadline, created_at")
      .toArray()
      .flatMap((row) => {
        const criteria = readableCriteria(row);
        if (!criteria) return [];
        return {
          runId: row.run_id,
          nodeId: row.node_id,
          workflowId: row.workflow_id,
          eventTypes: criteria.eventTypes,
          filter: criteria.filter,
          deadline: row.deadline === null ? null : new Date(row.deadline).toISOString(),
          since: row.after_date,
        };
      });
  }

  /** Times out expired waits, re-sends unacknowledged resumes that are due, and prunes. At-least-once safe. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.sql
      .exec<{ run_id: string; node_id: string }>(
        "SELECT run_id, node_id FROM waits WHERE resolution IS NULL AND deadline <= ?",
        now,
      )
      .toArray();
    for (const row of expired) this.resolve(row.run_id, row.node_id, { kind: "timeout" });
    this.pruneBuffer(now);
    this.sql.exec("DELETE FROM cancelled_runs WHERE cancelled_at < ?", now - TOMBSTONE_RETENTION_MS);
    await this.sendDue();
  }

  /** Removes a wait and its type index; returns 1 if there was one. */
  private forgetWait(runId: string, nodeId: string): number {
    const removed = this.sql
      .exec("DELETE FROM waits WHERE run_id = ? AND node_id = ? RETURNING run_id", runId, nodeId)
      .toArray().length;
    this.sql.exec("DELETE FROM wait_types WHERE run_id = ? AND node_id = ?", runId, nodeId);
    return removed;
  }

  private findWait(runId: string, nodeId: string): WaitRow | undefined {
    return this.sql.exec<WaitRow>("SELECT * FROM waits WHERE run_id = ? AND node_id = ?", runId, nodeId).toArray()[0];
  }

  /** wait() without the sending: the wait as it stands, registered if new. A resolution is due to send at `sendAt`. */
  private register(request: WaitRequest, sendAt = Date.now()): WaitState {
    const cancelled = this.sql.exec("SELECT 1 FROM cancelled_runs WHERE run_id = ?", request.runId).toArray();
    if (cancelled.length > 0) return { state: "resolved", resolution: { kind: "cancelled" } };
    const existing = this.findWait(request.runId, request.nodeId);
    if (existing) {
      const stored = existing.resolution === null ? null : Resolution.safeParse(JSON.parse(existing.resolution));
      if (stored === null) return { state: "waiting", deadline: existing.deadline };
      if (stored.success) return { state: "resolved", resolution: stored.data };
      // A resolution a later schema cannot read: drop it and decide again from D1's copy.
      this.forgetWait(request.runId, request.nodeId);
    }
    this.sql.exec(
      `INSERT INTO waits (run_id, node_id, workflow_id, asset_id, event_types, filter, after_uuid, after_date, deadline, created_at, room, source, seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      request.runId,
      request.nodeId,
      request.workflowId,
      request.assetId,
      JSON.stringify(request.eventTypes),
      request.filter === null ? null : JSON.stringify(request.filter),
      request.after.uuid,
      request.after.eventDate,
      request.deadline,
      Date.now(),
      request.room ?? request.assetId,
      request.source === undefined ? null : JSON.stringify(request.source),
      JSON.stringify(request.seen ?? []),
    );
    for (const eventType of request.eventTypes.length > 0 ? request.eventTypes : ["*"]) {
      this.sql.exec(
        "INSERT INTO wait_types (event_type, run_id, node_id) VALUES (?, ?, ?)",
        eventType,
        request.runId,
        request.nodeId,
      );
    }
    const buffered = this.sql
      .exec<{ uuid: string; event: string }>(
        "SELECT uuid, event FROM recent_events WHERE event_date >= ?",
        request.after.eventDate,
      )
      .toArray()
      .flatMap((row) => {
        const parsed = AssetEvent.safeParse(JSON.parse(row.event));
        // A buffered event a later schema rejects is dropped, not allowed to fail every wait here.
        if (!parsed.success) this.sql.exec("DELETE FROM recent_events WHERE uuid = ?", row.uuid);
        return parsed.success ? [parsed.data] : [];
      });
    const match = firstAccepted(request, buffered);
    if (match) {
      this.resolve(request.runId, request.nodeId, { kind: "event", event: match }, sendAt);
      return { state: "resolved", resolution: { kind: "event", event: match } };
    }
    // Registered after its deadline: the time has decided (no buffered event came before it).
    if (request.deadline !== null && request.deadline <= Date.now()) {
      this.resolve(request.runId, request.nodeId, { kind: "timeout" }, sendAt);
      return { state: "resolved", resolution: { kind: "timeout" } };
    }
    return { state: "waiting", deadline: request.deadline };
  }

  /** First resolution wins: an event and a timeout for the same wait cannot both take it. Due to send at once. */
  private resolve(runId: string, nodeId: string, resolution: Resolution, sendAt = Date.now()): boolean {
    const rows = this.sql
      .exec(
        "UPDATE waits SET resolution = ?, next_send_at = ? WHERE run_id = ? AND node_id = ? AND resolution IS NULL RETURNING run_id",
        JSON.stringify(resolution),
        sendAt,
        runId,
        nodeId,
      )
      .toArray();
    this.sql.exec("DELETE FROM wait_types WHERE run_id = ? AND node_id = ?", runId, nodeId);
    return rows.length > 0;
  }

  /**
   * Sends the resumes that are due. The alarm is set first, in the same storage commit
   * as the resolutions, so a reset during the send still re-sends them; each sent
   * resume is due again after a backoff until ack() removes it.
   */
  private async sendDue(): Promise<void> {
    const now = Date.now();
    const due = this.sql
      .exec<{ run_id: string; node_id: string; asset_id: string | null; resolution: string; send_count: number }>(
        "SELECT run_id, node_id, coalesce(room, asset_id) AS asset_id, resolution, send_count FROM waits WHERE resolution IS NOT NULL AND next_send_at <= ?",
        now,
      )
      .toArray();
    if (due.length > 0) await this.ctx.storage.setAlarm(now + RESEND_DELAY_MS);
    for (let i = 0; i < due.length; i += 100) {
      const chunk = due.slice(i, i + 100);
      try {
        await this.env.EVENTS.sendBatch(
          chunk.map((row) => ({
            body: {
              kind: "resume",
              runId: row.run_id,
              nodeId: row.node_id,
              ...(row.asset_id ? { assetId: row.asset_id } : {}),
              resolution: JSON.parse(row.resolution),
            },
            contentType: "json" as const,
          })),
        );
      } catch (err) {
        console.error(JSON.stringify({ msg: "resume send failed; the alarm retries", error: String(err) }));
        this.sql.exec(
          "UPDATE waits SET next_send_at = ? WHERE resolution IS NOT NULL AND next_send_at <= ?",
          now + RESEND_DELAY_MS,
          now,
        );
        break;
      }
      const sentAt = Date.now();
      for (const row of chunk) {
        this.sql.exec(
          "UPDATE waits SET sent_at = ?, send_count = ?, next_send_at = ? WHERE run_id = ? AND node_id = ?",
          sentAt,
          row.send_count + 1,
          sentAt + resendDelayMs(row.send_count + 1),
          row.run_id,
          row.node_id,
        );
      }
    }
    await this.scheduleAlarm();
  }

  private pruneBuffer(now: number): void {
    this.sql.exec("DELETE FROM recent_events WHERE received_at < ?", now - BUFFER_WINDOW_MS);
    this.sql.exec(
      `DELETE FROM recent_events WHERE uuid NOT IN
       (SELECT uuid FROM recent_events ORDER BY received_at DESC, event_date DESC LIMIT ?)`,
      BUFFER_MAX_EVENTS,
    );
  }

  /**
   * One alarm at the next thing due: an open deadline, a resume to (re-)send, or
   * the expiry of a buffered event or tombstone, so storage shrinks with no traffic.
   */
  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (
           SELECT min(deadline) AS at FROM waits WHERE resolution IS NULL
           UNION ALL SELECT min(next_send_at) FROM waits WHERE resolution IS NOT NULL
           UNION ALL SELECT min(received_at) + ? FROM recent_events
           UNION ALL SELECT min(cancelled_at) + ? FROM cancelled_runs)`,
        BUFFER_WINDOW_MS,
        TOMBSTONE_RETENTION_MS,
      )
      .one().at;
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 100));
  }
}
