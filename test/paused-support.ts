/**
 * Helpers for the paused-run tests, on top of workflow-support: deliveries with
 * chosen publish times, runs and steps read straight from D1, and actions that
 * report which event they saw.
 */
import { env } from "cloudflare:workers";
import type { OktaEventOptions } from "../tools/local-okta/builders";
import { type BuiltEvent, buildEvent, deliver as deliverEvents, interceptOutbound, until } from "./workflow-support";

export { until } from "./workflow-support";

/** Delivers the events in one Okta delivery and returns them. */
export async function deliver(...events: OktaEventOptions[]): Promise<BuiltEvent[]> {
  const built = events.map(buildEvent);
  await deliverEvents(built);
  return built;
}

export interface RunRow {
  id: string;
  status: string;
  workflow_id: string;
  waiting_for: string | null;
  error: string | null;
}

export async function runsOf(workflowId: string): Promise<RunRow[]> {
  const { results } = await env.DB.prepare("select * from runs where workflow_id = ? order by started_at, id")
    .bind(workflowId)
    .all<RunRow>();
  return results;
}

export async function runWithStatus(workflowId: string, status: string): Promise<RunRow> {
  return until(async () => (await runsOf(workflowId)).find((run) => run.status === status), `a ${status} run`);
}

export interface StepRow {
  node_id: string;
  seq: number;
  status: string;
  outcome: string | null;
  output: string | null;
}

export async function stepsOf(runId: string): Promise<StepRow[]> {
  const { results } = await env.DB.prepare("select * from run_steps where run_id = ? order by seq")
    .bind(runId)
    .all<StepRow>();
  return results;
}

/** What a `notify` action posts: the current event's type and asset, and the run. */
export interface Notification {
  eventType?: string;
  run?: string;
  asset?: string;
}

/** Intercepts outbound HTTP for the whole file (install in beforeAll); `calls` reads what `notify` nodes sent. */
export function recordNotifications(): { calls: (name: string, asset: string) => Notification[] } {
  const outbound = interceptOutbound();
  return {
    calls: (name, asset) =>
      outbound
        .to(`https://hooks.example.test/${name}`)
        .map((call): Notification => JSON.parse(call.body))
        .filter((body) => body.asset === asset),
  };
}

/** An http action node posting the current event's fields to `https://hooks.example.test/<name>`. */
export function notify(name: string, next: string | null = null) {
  return {
    kind: "action",
    action: {
      type: "http",
      method: "POST",
      url: `https://hooks.example.test/${name}`,
      body: { eventType: "{{ event.eventType }}", run: "{{ run.id }}", asset: "{{ event.id }}" },
    },
    next,
  };
}
