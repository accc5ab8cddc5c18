/** Shared helpers for the workerd tests: Okta-shaped requests and direct reads of the real local D1. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../src/index";
import { oktaHeaders } from "../tools/local-okta/builders";

export const HOOK_SECRET = "test-hook-secret";
export const ADMIN_TOKEN = "test-admin-token";
export const HOOK_URL = "http://worker.test/hooks/okta";

export interface HookRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
}

/** A request to the hook; POSTs default to Okta's headers with the test secret. */
export function hookRequest(options: HookRequestOptions = {}): Request {
  const method = options.method ?? "POST";
  const headers = options.headers ?? (method === "POST" ? oktaHeaders(HOOK_SECRET) : {});
  return new Request(HOOK_URL, { method, headers, body: options.body });
}

let clients = 0;
/**
 * A client address no other request has used (each its own IPv6 /64), for a test that
 * sends refused credentials on purpose but is not about the failure limit: without
 * CF-Connecting-IP every request shares one budget (test/rate-limits.test.ts).
 */
export function freshClientIp(): string {
  clients += 1;
  return `2001:db8:${clients.toString(16)}::1`;
}

/** Sends a request through the Worker's default export, as the runtime would. */
export function send(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

/**
 * Sends a request through the Worker's fetch handler with some bindings replaced
 * (another auth header, a small body limit, a queue that fails).
 */
export async function sendWithEnv(request: Request, overrides: Partial<Env>): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** POSTs an Okta delivery body with Okta's headers and the test secret. */
export function postDelivery(delivery: unknown): Promise<Response> {
  return send(hookRequest({ body: JSON.stringify(delivery) }));
}

/** Row counts of the tables a delivery writes to. */
export async function tableCounts(): Promise<{ deliveries: number; events: number }> {
  const [deliveries, events] = await env.DB.batch<{ n: number }>([
    env.DB.prepare("select count(*) as n from deliveries"),
    env.DB.prepare("select count(*) as n from events"),
  ]);
  return { deliveries: deliveries?.results[0]?.n ?? -1, events: events?.results[0]?.n ?? -1 };
}

/** An events row as D1 holds it (snake_case columns, JSON as text). */
export interface StoredEventRow {
  uuid: string;
  delivery_id: string;
  asset_id: string | null;
  asset_type: string | null;
  asset_alternate_id: string | null;
  asset_display_name: string | null;
  event_type: string;
  event_result: string | null;
  event_date: string;
  event_timestamp: string;
  in_category: number;
  actor: string | null;
  outcome_reason: string | null;
  display_message: string | null;
  raw: string;
  enqueued_at: string | null;
  consumed_at: string | null;
  requeue_count: number;
  source: string | null;
}

export async function storedEvent(uuid: string): Promise<StoredEventRow | null> {
  return env.DB.prepare("select * from events where uuid = ?").bind(uuid).first<StoredEventRow>();
}

export async function deliveryExists(eventId: string): Promise<boolean> {
  const row = await env.DB.prepare("select event_id from deliveries where event_id = ?").bind(eventId).first();
  return row !== null;
}

/** A queue binding whose every send fails, as the Queues API can during an outage; counts the attempts. */
export function failingQueue(): { queue: Queue; attempts: () => number } {
  let attempts = 0;
  const fail = (): Promise<never> => {
    attempts += 1;
    return Promise.reject(new Error("queue unavailable (injected)"));
  };
  return { queue: { send: fail, sendBatch: fail, metrics: fail }, attempts: () => attempts };
}
