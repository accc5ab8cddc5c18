/**
 * EVERYTHING the simulator knows about the engine's storage is in this file: how a run's
 * path, an event's fate and a registered wait are read, what a WaitRoom is named, and how
 * a seed's rows are cleared. The invariants read only through it, so when the engine
 * changes, this is the one file to adapt.
 *
 * What the fenced engine (issue 15) changes here:
 * - WaitRooms are named by (source, asset): `waitRoomName(source, assetId)` in
 *   src/durable/wait-rooms.ts, i.e. JSON.stringify([source ?? null, assetId]); `waitRoomName`
 *   below already uses it when the module exports it.
 * - Events the cron gives up on get a dead_letters row (and events.abandoned_at); both
 *   are read as "dead-lettered with a record" below.
 * - The WaitRoom's `waits` table may gain columns (a seen-event set); `waitRegistered`
 *   reads only run_id and resolution.
 */
import { runInDurableObject } from "cloudflare:test";
import type { WaitRoom } from "../../src/durable/wait-room";
import * as rooms from "../../src/durable/wait-rooms";
import type { Source } from "./schedule";

export const ENDED = ["completed", "failed", "timed_out", "terminated", "cancelled"];

/**
 * A run's lease (src/engine/lease.ts, LEASE_MS): a second consumer may take a run over only
 * after its holder has been silent this long, so two calls of one key at once are legitimate
 * only when the earlier one has been in flight at least this long.
 */
export const LEASE_MS = 5 * 60_000;

/**
 * The WaitRoom a run of (source, asset) waits in. The fenced engine exports
 * `waitRoomName(source, assetId)` (JSON.stringify([source ?? null, assetId])) and it is used
 * when present; the engine as of 5cec95e names a room by the asset id alone.
 */
export function waitRoomName(source: Source, assetId: string): string {
  const named = (rooms as unknown as Record<string, unknown>).waitRoomName;
  return typeof named === "function" ? String(named(source, assetId)) : assetId;
}

/**
 * The event uuids a WaitRoom RPC hands the room (`deliver(events)`): the moment an event
 * reached its room is what decides which wait it may resume, so the harness records it.
 */
export function eventsOfRoomCall(method: string, args: readonly unknown[]): string[] {
  const [events] = args;
  if (method !== "deliver" || !Array.isArray(events)) return [];
  return events.flatMap((e: unknown) =>
    typeof e === "object" && e !== null && "uuid" in e && typeof e.uuid === "string" ? [e.uuid] : [],
  );
}

/**
 * The waits a WaitRoom RPC registers (`wait(request)`, or `reconcile(requests)` when the cron
 * registers a lost wait again), as `runId:nodeId`: a buffered event is one that reached the
 * room before its wait did, so the harness records when each wait first got there.
 */
export function waitsOfRoomCall(method: string, args: readonly unknown[]): string[] {
  if (method !== "wait" && method !== "reconcile") return [];
  const [input] = args;
  return (Array.isArray(input) ? input : [input]).flatMap((w: unknown) =>
    typeof w === "object" && w !== null && "runId" in w && "nodeId" in w
      ? [`${String(w.runId)}:${String(w.nodeId)}`]
      : [],
  );
}

export interface StepView {
  nodeId: string;
  kind: string;
  status: string;
  outcome: string | null;
  /** For an event node resumed by an event: that event's uuid. */
  eventUuid: string | null;
  startedAt: number;
  endedAt: number | null;
}

export interface RunView {
  id: string;
  workflowId: string;
  triggerUuid: string;
  assetId: string | null;
  status: string;
  endedAt: number | null;
  waitingUntil: number | null;
  steps: StepView[];
}

const time = (text: string | null): number | null => (text === null ? null : Date.parse(text));

/** Every run of these workflows, with its steps in order. */
export async function readRuns(db: D1Database, workflowIds: readonly string[]): Promise<RunView[]> {
  if (workflowIds.length === 0) return [];
  const marks = workflowIds.map(() => "?").join(",");
  const [runs, steps] = await db.batch<Record<string, string | number | null>>([
    db
      .prepare(
        `select id, workflow_id, trigger_event_uuid, asset_id, status, ended_at, waiting_for from runs where workflow_id in (${marks})`,
      )
      .bind(...workflowIds),
    db
      .prepare(
        `select s.run_id, s.node_id, s.kind, s.status, s.outcome, s.output, s.started_at, s.ended_at from run_steps s
         join runs r on r.id = s.run_id where r.workflow_id in (${marks}) order by s.run_id, s.seq`,
      )
      .bind(...workflowIds),
  ]);
  const byRun = new Map<string, StepView[]>();
  for (const row of steps?.results ?? []) {
    const output = typeof row.output === "string" ? (JSON.parse(row.output) as Record<string, unknown> | null) : null;
    const eventUuid = output && typeof output.eventUuid === "string" ? output.eventUuid : null;
    const list = byRun.get(String(row.run_id)) ?? [];
    list.push({
      nodeId: String(row.node_id),
      kind: String(row.kind),
      status: String(row.status),
      outcome: row.outcome === null ? null : String(row.outcome),
      eventUuid,
      startedAt: time(String(row.started_at)) ?? 0,
      endedAt: time(row.ended_at === null ? null : String(row.ended_at)),
    });
    byRun.set(String(row.run_id), list);
  }
  return (runs?.results ?? []).map((row) => {
    const waitingFor =
      typeof row.waiting_for === "string" ? (JSON.parse(row.waiting_for) as { until?: unknown }) : null;
    return {
      id: String(row.id),
      workflowId: String(row.workflow_id),
      triggerUuid: String(row.trigger_event_uuid),
      assetId: row.asset_id === null ? null : String(row.asset_id),
      status: String(row.status),
      endedAt: time(row.ended_at === null ? null : String(row.ended_at)),
      waitingUntil: typeof waitingFor?.until === "string" ? Date.parse(waitingFor.until) : null,
      steps: byRun.get(String(row.id)) ?? [],
    };
  });
}

export interface EventFate {
  uuid: string;
  source: string | null;
  consumedAt: number | null;
  deadLettered: boolean;
}

/** What D1 holds of these events: stored or not, consumed, or given up with a record (dead letter or abandoned_at). */
export async function readEventFates(db: D1Database, uuids: readonly string[]): Promise<Map<string, EventFate>> {
  const fates = new Map<string, EventFate>();
  const letters = await db.prepare("select body from dead_letters").all<{ body: string | null }>();
  const lettered = letters.results.map((row) => row.body ?? "").join("\n");
  for (let i = 0; i < uuids.length; i += 50) {
    const chunk = uuids.slice(i, i + 50);
    const { results } = await db
      .prepare(`select uuid, source, consumed_at from events where uuid in (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<{ uuid: string; source: string | null; consumed_at: string | null }>();
    for (const row of results) {
      fates.set(row.uuid, {
        uuid: row.uuid,
        source: row.source,
        consumedAt: time(row.consumed_at),
        // A dead letter carries the original message body, which names the event's uuid.
        deadLettered: lettered.includes(row.uuid),
      });
    }
  }
  return fates;
}

/** Whether the WaitRoom `name` holds an open wait of this run. */
export async function waitRegistered(rooms: DurableObjectNamespace<WaitRoom>, name: string, runId: string) {
  const stub = rooms.get(rooms.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => {
    const rows = state.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM waits WHERE run_id = ? AND resolution IS NULL", runId)
      .one();
    return rows.n > 0;
  });
}

/** Clears one seed's rows, so that the next seed's cron passes do not work on them. */
export async function clearSeed(db: D1Database, workflowIds: readonly string[], uuids: readonly string[]) {
  const marks = workflowIds.map(() => "?").join(",");
  const statements = [
    db.prepare(`delete from run_steps where run_id in (select id from runs where workflow_id in (${marks}))`),
    db.prepare(`delete from runs where workflow_id in (${marks})`),
  ].map((s) => s.bind(...workflowIds));
  for (let i = 0; i < uuids.length; i += 50) {
    const chunk = uuids.slice(i, i + 50);
    statements.push(db.prepare(`delete from events where uuid in (${chunk.map(() => "?").join(",")})`).bind(...chunk));
  }
  statements.push(db.prepare("delete from dead_letters"));
  await db.batch(statements);
}
