/**
 * WaitRoom: one Durable Object per asset ID. It holds the runs paused on that asset,
 * a short buffer of the asset's recent events, and one alarm at the earliest
 * deadline. SQLite storage is the only state; nothing is mirrored in memory.
 *
 * Every wait is resolved at most once, by the first of: a matching event, the
 * timeout, or a cancel. The resolution is written before the resume message is sent,
 * and re-sent by the alarm until the queue takes it, so a wait is never lost; the
 * consumer treats a second resume of the same wait as done.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { describeIssue } from "../validation";
import { Predicate } from "../workflows/predicate";
import { firstAccepted, waitAccepts } from "./wait-match";
import { AssetEvent, type PausedRun, Resolution, WaitRequest, type WaitState } from "./wait-messages";
import { WAIT_ROOM_SCHEMA } from "./wait-room-schema";

/** How long, and how many, of an asset's events stay buffered for runs that start waiting late. */
export const BUFFER_WINDOW_MS = 60 * 60 * 1000;
export const BUFFER_MAX_EVENTS = 500;
/** When the queue refuses a resume, the alarm tries again this soon. */
const RESEND_DELAY_MS = 5_000;
/** Resolved waits are kept this long so that a repeated wait() for them stays a no-op. */
const RESOLVED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

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
};

const StoredTypes = z.array(z.string());
const AssetEvents = z.array(AssetEvent).min(1).max(1000);
const RunId = z.string().min(1);

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
  };
}

export class WaitRoom extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(WAIT_ROOM_SCHEMA);
  }

  /**
   * Pauses a run here until a matching later event or its deadline. Idempotent per
   * (run, node): a repeated call returns the existing wait, or how it was resolved,
   * so a caller that crashed after an earlier call can carry on. A buffered event
   * that already matches resolves the wait at once.
   */
  async wait(input: unknown): Promise<WaitState> {
    const request = parseInput(WaitRequest, input, "wait");
    const existing = this.sql
      .exec<WaitRow>("SELECT * FROM waits WHERE run_id = ? AND node_id = ?", request.runId, request.nodeId)
      .toArray()[0];
    if (existing) {
      return existing.resolution === null
        ? { state: "waiting", deadline: existing.deadline }
        : { state: "resolved", resolution: Resolution.parse(JSON.parse(existing.resolution)) };
    }
    const now = Date.now();
    this.sql.exec(
      `INSERT INTO waits (run_id, node_id, workflow_id, event_types, filter, after_uuid, after_date, deadline, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      request.runId,
      request.nodeId,
      request.workflowId,
      JSON.stringify(request.eventTypes),
      request.filter === null ? null : JSON.stringify(request.filter),
      request.after.uuid,
      request.after.eventDate,
      request.deadline,
      now,
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
      .exec<{ event: string }>("SELECT event FROM recent_events WHERE event_date >= ?", request.after.eventDate)
      .toArray()
      .map((row) => AssetEvent.parse(JSON.parse(row.event)));
    const match = firstAccepted(request, buffered);
    if (match) this.resolve(request.runId, request.nodeId, { kind: "event", event: match });
    await this.flush();
    await this.scheduleAlarm();
    return match
      ? { state: "resolved", resolution: { kind: "event", event: match } }
      : { state: "waiting", deadline: request.deadline };
  }

  /**
   * Events on this asset: buffered for later waits, and every open wait an event
   * matches is resolved with it (one event can resume many runs, each once).
   * Idempotent per event uuid: an event seen before is skipped.
   */
  async deliver(input: unknown): Promise<{ resumed: number; duplicates: number }> {
    const events = parseInput(AssetEvents, input, "deliver");
    const now = Date.now();
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
        if (waitAccepts(criteriaOf(row), event) && this.resolve(row.run_id, row.node_id, { kind: "event", event })) {
          resumed += 1;
        }
      }
    }
    this.pruneBuffer(now);
    if (resumed > 0) await this.flush();
    return { resumed, duplicates };
  }

  /** Removes a run's open wait (the run was terminated). True when there was one. */
  async cancel(input: unknown): Promise<boolean> {
    const runId = parseInput(RunId, input, "cancel");
    const rows = this.sql
      .exec(
        "UPDATE waits SET resolution = ?, sent_at = ? WHERE run_id = ? AND resolution IS NULL RETURNING run_id",
        JSON.stringify({ kind: "cancelled" }),
        Date.now(),
        runId,
      )
      .toArray();
    return rows.length > 0;
  }

  /** The runs paused here, soonest deadline first. */
  async paused(): Promise<PausedRun[]> {
    return this.sql
      .exec<WaitRow>("SELECT * FROM waits WHERE resolution IS NULL ORDER BY deadline IS NULL, deadline, created_at")
      .toArray()
      .map((row) => {
        const criteria = criteriaOf(row);
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

  /** Times out expired waits and re-sends resumes the queue has not taken yet. At-least-once safe. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.sql
      .exec<{ run_id: string; node_id: string }>(
        "SELECT run_id, node_id FROM waits WHERE resolution IS NULL AND deadline <= ?",
        now,
      )
      .toArray();
    for (const row of expired) this.resolve(row.run_id, row.node_id, { kind: "timeout" });
    this.sql.exec("DELETE FROM waits WHERE sent_at IS NOT NULL AND sent_at < ?", now - RESOLVED_RETENTION_MS);
    this.pruneBuffer(now);
    await this.flush();
    await this.scheduleAlarm();
  }

  /** First resolution wins: an event and a timeout for the same wait cannot both take it. */
  private resolve(runId: string, nodeId: string, resolution: Resolution): boolean {
    const rows = this.sql
      .exec(
        "UPDATE waits SET resolution = ? WHERE run_id = ? AND node_id = ? AND resolution IS NULL RETURNING run_id",
        JSON.stringify(resolution),
        runId,
        nodeId,
      )
      .toArray();
    this.sql.exec("DELETE FROM wait_types WHERE run_id = ? AND node_id = ?", runId, nodeId);
    return rows.length > 0;
  }

  /** Sends the resume messages of resolved waits not yet sent. On failure the alarm retries. */
  private async flush(): Promise<void> {
    const pending = this.sql
      .exec<{ run_id: string; node_id: string; resolution: string }>(
        "SELECT run_id, node_id, resolution FROM waits WHERE resolution IS NOT NULL AND sent_at IS NULL",
      )
      .toArray();
    for (let i = 0; i < pending.length; i += 100) {
      const chunk = pending.slice(i, i + 100);
      try {
        await this.env.EVENTS.sendBatch(
          chunk.map((row) => ({
            body: { kind: "resume", runId: row.run_id, nodeId: row.node_id, resolution: JSON.parse(row.resolution) },
            contentType: "json" as const,
          })),
        );
      } catch (err) {
        console.error("resume send failed; the alarm will retry", { error: String(err) });
        await this.ctx.storage.setAlarm(Date.now() + RESEND_DELAY_MS);
        return;
      }
      const sentAt = Date.now();
      for (const row of chunk) {
        this.sql.exec("UPDATE waits SET sent_at = ? WHERE run_id = ? AND node_id = ?", sentAt, row.run_id, row.node_id);
      }
    }
  }

  private pruneBuffer(now: number): void {
    this.sql.exec("DELETE FROM recent_events WHERE received_at < ?", now - BUFFER_WINDOW_MS);
    this.sql.exec(
      `DELETE FROM recent_events WHERE uuid NOT IN
       (SELECT uuid FROM recent_events ORDER BY received_at DESC, event_date DESC LIMIT ?)`,
      BUFFER_MAX_EVENTS,
    );
  }

  /** One alarm at the earliest open deadline (or sooner, when a resend is due). */
  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ deadline: number | null }>("SELECT min(deadline) AS deadline FROM waits WHERE resolution IS NULL")
      .one().deadline;
    const unsent = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM waits WHERE resolution IS NOT NULL AND sent_at IS NULL")
      .one().n;
    const wanted = unsent > 0 ? Math.min(next ?? Number.POSITIVE_INFINITY, Date.now() + RESEND_DELAY_MS) : next;
    if (wanted === null || wanted === Number.POSITIVE_INFINITY) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > wanted) await this.ctx.storage.setAlarm(wanted);
  }
}
