/** Okta's side of the simulation: signed hook deliveries for each source, and the admin API. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../../tools/local-okta/builders";
import type { Delivery, SimEvent } from "./schedule";

/** The hook of each source, with the secrets vitest.config.ts sets (globex uses its own header). */
const HOOKS: Record<string, { path: string; headers: Record<string, string> }> = {
  default: { path: "/hooks/okta", headers: oktaHeaders("test-hook-secret") },
  acme: { path: "/hooks/okta/acme", headers: oktaHeaders("acme-hook-secret") },
  globex: { path: "/hooks/okta/globex", headers: oktaHeaders("globex-hook-secret", "X-Globex-Hook") },
};
const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };

/** The POST Okta makes for a delivery; `byUuid` holds events with absolute `published` times. */
export function deliveryRequest(d: Delivery, byUuid: ReadonlyMap<string, SimEvent>, now: number): Request {
  const hook = HOOKS[d.source ?? "default"] ?? HOOKS.default;
  if (!hook) throw new Error("no default hook");
  const events = d.uuids.flatMap((uuid) => {
    const e = byUuid.get(uuid);
    return e
      ? [
          oktaEvent({
            eventType: e.eventType,
            assetId: e.assetId,
            uuid: e.uuid,
            published: new Date(e.published),
            result: e.result,
          }),
        ]
      : [];
  });
  const body = oktaDelivery(events, { eventId: d.deliveryId, eventTime: new Date(now).toISOString() });
  return new Request(`http://worker.test${hook.path}`, {
    method: "POST",
    headers: hook.headers,
    body: JSON.stringify(body),
  });
}

/** Calls the admin API through the Worker's fetch with these bindings. */
export async function api(bindings: Env, method: string, path: string, body?: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const init = { method, headers: ADMIN, body: body === undefined ? undefined : JSON.stringify(body) };
  const res = await worker.fetch(new Request(`http://worker.test${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
