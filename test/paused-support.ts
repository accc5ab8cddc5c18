/** Helpers for the paused-run tests: workflows through the API, deliveries, polling D1, an outbound recorder. */
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { type OktaEventOptions, oktaDelivery, oktaEvent } from "../tools/local-okta/builders";
import { ADMIN_TOKEN, postDelivery, send } from "./support";

/** Creates a workflow through the API and returns its id; fails the test on a rejection. */
export async function createWorkflow(definition: Record<string, unknown>): Promise<string> {
  const res = await send(
    new Request("http://worker.test/api/workflows", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(definition),
    }),
  );
  const body = await res.json<{ id?: string; error?: unknown }>();
  if (res.status !== 201 || !body.id) throw new Error(`workflow rejected: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await send(
    new Request(`http://worker.test${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers ?? {}) },
    }),
  );
  return { status: res.status, body: await res.json<T>() };
}

/** Delivers events (one Okta delivery) and returns them; fails the test unless Okta gets a 200. */
export async function deliver(
  ...events: OktaEventOptions[]
): Promise<Array<Record<string, unknown> & { uuid: string }>> {
  const built = events.map((options) => ({ ...oktaEvent(options), uuid: options.uuid ?? crypto.randomUUID() }));
  const res = await postDelivery(oktaDelivery(built));
  if (res.status !== 200) throw new Error(`delivery refused: ${res.status} ${await res.text()}`);
  return built;
}

/** Polls until `probe` returns something truthy; the real queue delivers in the background. */
export async function until<T>(
  probe: () => Promise<T | null | undefined | false>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
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

export interface OutboundCall {
  name: string;
  body: { eventType?: string; run?: string; asset?: string };
}

/**
 * Intercepts every outbound request for the whole test file and answers 200; nothing
 * leaves the machine. Install once (beforeAll): runs finish in the background, after
 * their test, and must still find the interceptor. Filter calls by asset.
 */
export function interceptOutbound(): { calls: (name: string, asset: string) => OutboundCall["body"][] } {
  const seen: OutboundCall[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const text = await request.text();
    seen.push({ name: new URL(request.url).pathname.slice(1), body: text ? JSON.parse(text) : {} });
    return new Response("ok", { status: 200 });
  });
  return {
    calls: (name, asset) => seen.filter((call) => call.name === name && call.body.asset === asset).map((c) => c.body),
  };
}

/** An http action node posting to the recorder under `name`, with the current event's fields. */
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
