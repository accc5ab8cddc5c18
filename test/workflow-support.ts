/**
 * Helpers for the workflow tests: the admin API, deliveries through the real hook,
 * polling D1 while the real queue consumer works in the background, and an outbound
 * HTTP interceptor (nothing leaves the test; every request is recorded).
 */

import { createExecutionContext, createMessageBatch, getQueueResult, type QueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { storeDelivery } from "../src/db/events";
import worker from "../src/index";
import { LogEvent } from "../src/okta/envelope";
import { eventContext } from "../src/okta/event-context";
import { normaliseEvent } from "../src/okta/normalise";
import type { EventMessage, QueueMessage } from "../src/queue/messages";
import {
  type DeliveryOptions,
  type OktaEventOptions,
  oktaDelivery,
  oktaEvent,
  oktaHeaders,
} from "../tools/local-okta/builders";
import { ADMIN_TOKEN, postDelivery, send } from "./support";

export const SLACK_URL = "https://hooks.slack.com/services/T000/B000/test-slack-secret";
export const OKTA_API_TOKEN = "test-okta-api-token";

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface WorkflowView {
  id: string;
  name: string;
  enabled: boolean;
  currentVersion: number;
  definition: Record<string, unknown>;
  versions: Array<{ version: number; createdAt: string }>;
}

export interface EventFieldsView {
  id: string | null;
  type: string | null;
  alternateId: string | null;
  displayName: string | null;
  eventType: string;
  eventResult: string | null;
  eventDate: string;
  eventTimestamp: string;
}

export interface RunView {
  id: string;
  workflowId: string;
  workflowVersion: number;
  triggerEventUuid: string;
  assetId: string | null;
  status: string;
  waitingFor: Record<string, unknown> | null;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  endedAt: string | null;
}

export interface StepView {
  nodeId: string;
  seq: number;
  kind: string;
  status: string;
  outcome: string | null;
  output: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  startedAt: string;
  endedAt: string | null;
}

export interface RunDetail extends RunView {
  trigger: EventFieldsView | null;
  steps: StepView[];
}

/** Calls the admin API with the test bearer token (or `token: null` for none). */
export function api(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return send(
    new Request(`http://worker.test${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

/** Calls the admin API and expects `status`; returns the JSON body. */
export async function apiJson<T>(method: string, path: string, body?: unknown, status = 200): Promise<T> {
  const res = await api(method, path, body);
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBe(status);
  return JSON.parse(text);
}

/** Creates a workflow through the API; fails the test on a rejection. */
export function createWorkflow(definition: Record<string, unknown>): Promise<WorkflowView> {
  return apiJson<WorkflowView>("POST", "/api/workflows", definition, 201);
}

/** A fresh asset id, so that a test's events reach only the workflows that filter on it. */
export function newAssetId(prefix = "00T"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * An enabled workflow on a fresh asset: every API token created on it posts `text` to
 * Slack. Returns the asset, the workflow and the event target that triggers it.
 */
export async function slackOnTokenCreate(name: string, text: string, extra: Record<string, unknown> = {}) {
  const assetId = newAssetId();
  const workflow = await createWorkflow({
    name: `${name} ${assetId}`,
    ...extra,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: "page",
    nodes: {
      page: { kind: "action", action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text } },
    },
  });
  const target = [{ id: assetId, type: "Token", alternateId: "unknown", displayName: "ci" }];
  return { assetId, workflow, target };
}

/** A trigger filter that matches only events on this asset. */
export function onAsset(assetId: string) {
  return { field: "id", op: "eq", value: assetId };
}

export type BuiltEvent = Record<string, unknown> & { uuid: string };

export function buildEvent(options: OktaEventOptions): BuiltEvent {
  return { ...oktaEvent(options), uuid: options.uuid ?? crypto.randomUUID() };
}

/** Posts one Okta delivery through the real hook; fails the test unless Okta gets a 200. */
export async function deliver(events: BuiltEvent[], options: DeliveryOptions = {}): Promise<void> {
  const res = await postDelivery(oktaDelivery(events, options));
  expect(res.status, await res.text()).toBe(200);
}

/**
 * Posts one delivery of `events` to the hook of a named Okta org that vitest.config.ts
 * configures (acme reads the secret from Authorization, globex from X-Globex-Hook);
 * fails the test unless Okta gets a 200.
 */
export async function deliverToSource(source: "acme" | "globex", events: Record<string, unknown>[]): Promise<void> {
  const headers =
    source === "acme" ? oktaHeaders("acme-hook-secret") : oktaHeaders("globex-hook-secret", "X-Globex-Hook");
  const body = JSON.stringify(oktaDelivery(events));
  const res = await send(new Request(`http://worker.test/hooks/okta/${source}`, { method: "POST", headers, body }));
  expect(res.status, await res.text()).toBe(200);
}

/** Delivers one event and returns it. */
export async function deliverEvent(options: OktaEventOptions): Promise<BuiltEvent> {
  const event = buildEvent(options);
  await deliver([event]);
  return event;
}

/** Polls until `probe` returns something truthy: the real queue delivers in the background. */
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

/** Waits until the consumer has handled the event (runs started, WaitRoom told), the point after which no run can appear for it. */
export async function consumed(uuid: string): Promise<void> {
  await until(async () => {
    const row = await env.DB.prepare("select consumed_at from events where uuid = ?")
      .bind(uuid)
      .first<{ consumed_at: string | null }>();
    return row?.consumed_at;
  }, `event ${uuid} to be consumed`);
}

/** Ids of the runs of `workflowId` triggered by the event `uuid`, straight from D1. */
export async function runIdsFor(workflowId: string, uuid: string): Promise<string[]> {
  const { results } = await env.DB.prepare("select id from runs where workflow_id = ? and trigger_event_uuid = ?")
    .bind(workflowId, uuid)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

export function getRun(runId: string): Promise<RunDetail> {
  return apiJson<RunDetail>("GET", `/api/runs/${runId}`);
}

const ENDED = ["completed", "failed", "timed_out", "terminated", "cancelled"];

/** Waits for the run the event started for the workflow to reach one of `statuses` (default: any end) and returns it through the API. */
export async function runOf(workflowId: string, uuid: string, statuses: string[] = ENDED): Promise<RunDetail> {
  return until(
    async () => {
      const [id] = await runIdsFor(workflowId, uuid);
      if (!id) return null;
      const run = await getRun(id);
      return statuses.includes(run.status) ? run : null;
    },
    `a run of ${workflowId} for ${uuid} in ${statuses.join("/")}`,
  );
}

/** Runs the Worker's queue handler on a real MessageBatch, as a second consumer invocation would. */
export async function consume(
  bodies: QueueMessage[],
  overrides: Partial<Env> = {},
): Promise<QueueResult & { ids: string[] }> {
  const ids = bodies.map(() => crypto.randomUUID());
  const batch = createMessageBatch(
    "okta-events",
    bodies.map((body, i) => ({ id: ids[i] ?? "", timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return { ...(await getQueueResult(batch, ctx)), ids };
}

/** Stores an event the way the hook does, without putting it on the queue; returns its queue message. */
export async function storeWithoutEnqueue(options: OktaEventOptions): Promise<EventMessage> {
  const eventId = crypto.randomUUID();
  const receivedAt = new Date();
  const normalised = normaliseEvent(LogEvent.parse(oktaEvent(options)), eventId, receivedAt);
  await storeDelivery(env.DB, { eventId, source: null, eventTime: null, receivedAt: receivedAt.toISOString() }, [
    normalised,
  ]);
  return {
    kind: "event",
    uuid: normalised.uuid,
    inCategory: normalised.inCategory,
    fields: normalised.fields,
    context: eventContext(normalised.actor, normalised.clientIp),
  };
}

export interface OutboundCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

type Responder = (call: OutboundCall) => Response | Promise<Response>;

/**
 * Intercepts globalThis.fetch (the consumer runs in this isolate, so its actions are
 * caught too). Requests are recorded and answered by the route whose URL prefix
 * matches, else 200 "ok". Install once per file: runs of earlier tests may still
 * call out in the background, and must not reach the network either.
 */
export function interceptOutbound() {
  const calls: OutboundCall[] = [];
  const routes: Array<{ prefix: string; respond: Responder }> = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const call: OutboundCall = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    };
    calls.push(call);
    const route = routes.find((r) => call.url.startsWith(r.prefix));
    return route ? route.respond(call) : new Response("ok", { status: 200 });
  });
  return {
    /** Answers requests whose URL starts with `prefix`. */
    on(prefix: string, respond: Responder): void {
      routes.unshift({ prefix, respond });
    },
    /** The recorded requests whose URL starts with `prefix`. */
    to(prefix: string): OutboundCall[] {
      return calls.filter((call) => call.url.startsWith(prefix));
    },
    where(predicate: (call: OutboundCall) => boolean): OutboundCall[] {
      return calls.filter(predicate);
    },
    restore(): void {
      spy.mockRestore();
    },
  };
}

/** A promise the test opens when it wants: an intercepted request can wait on it, as a slow endpoint would. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** An http action node POSTing to `url`. */
export function post(url: string, next: string | null = null, body?: unknown) {
  return {
    kind: "action",
    action: { type: "http", method: "POST", url, ...(body === undefined ? {} : { body }) },
    next,
  };
}
