/**
 * Everything the simulator reads that depends on the engine's internals, in one place,
 * so that the same harness runs against an older revision (`npm run sim -- --rev`):
 * the WaitRoom a wait lives in, and a run's path as D1 records it.
 */
import { env } from "cloudflare:workers";
import * as rooms from "../../src/durable/wait-rooms";
import type { Source } from "./schedule";

/** The WaitRoom of (source, asset): rooms are per (source, asset) since issue 15, per asset before. */
export function roomOf(source: Source, assetId: string) {
  const named = rooms as unknown as Record<string, unknown>;
  const name =
    typeof named.waitRoomName === "function"
      ? (named.waitRoomName as (s: Source, a: string) => string)(source, assetId)
      : assetId;
  return env.WAIT_ROOMS.get(env.WAIT_ROOMS.idFromName(name));
}

export interface RunView {
  id: string;
  workflowId: string;
  trigger: string;
  status: string;
  endedAt: string | null;
  notBefore: string | null;
  repairAfter: string | null;
  waitingFor: { nodeId: string; until: string | null } | null;
  steps: Array<{ nodeId: string; status: string; outcome: string | null; eventUuid: string | null }>;
}

/** The runs of these workflows with their steps, straight from D1. */
export async function runsOf(workflowIds: readonly string[]): Promise<RunView[]> {
  const { results } = await env.DB.prepare(
    `select id, workflow_id, trigger_event_uuid, status, ended_at, not_before, repair_after, waiting_for
     from runs where workflow_id in (select value from json_each(?))`,
  )
    .bind(JSON.stringify(workflowIds))
    .all<Record<string, string | null>>();
  const steps = await env.DB.prepare(
    `select run_id, node_id, status, outcome, json_extract(output, '$.eventUuid') as event_uuid
     from run_steps where run_id in (select value from json_each(?)) order by seq`,
  )
    .bind(JSON.stringify(results.map((r) => r.id)))
    .all<Record<string, string | null>>();
  return results.map((r) => ({
    id: String(r.id),
    workflowId: String(r.workflow_id),
    trigger: String(r.trigger_event_uuid),
    status: String(r.status),
    endedAt: r.ended_at ?? null,
    notBefore: r.not_before ?? null,
    repairAfter: r.repair_after ?? null,
    waitingFor: r.waiting_for ? JSON.parse(r.waiting_for) : null,
    steps: steps.results
      .filter((s) => s.run_id === r.id)
      .map((s) => ({
        nodeId: String(s.node_id),
        status: String(s.status),
        outcome: s.outcome ?? null,
        eventUuid: s.event_uuid ?? null,
      })),
  }));
}

/** Events of the seed as D1 holds them: handled, or recorded as a dead letter. */
export async function eventStates(uuids: readonly string[]) {
  const { results } = await env.DB.prepare(
    `select uuid, consumed_at, (select count(*) from dead_letters d where d.body like '%' || e.uuid || '%') as letters
     from events e where uuid in (select value from json_each(?))`,
  )
    .bind(JSON.stringify(uuids))
    .all<{ uuid: string; consumed_at: string | null; letters: number }>();
  return results;
}
