/**
 * POST /hooks/okta rejections: each answers the status Okta expects (4xx is never
 * retried) and leaves D1 exactly as it was.
 */
import { describe, expect, it } from "vitest";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../tools/local-okta/builders";
import { deliveryExists, HOOK_SECRET, hookRequest, send, sendWithEnv, storedEvent, tableCounts } from "./support";

interface ErrorBody {
  error: { code: string; message: string };
}

/** A valid delivery, so each test changes exactly one thing about it. */
function validDelivery() {
  const event = oktaEvent({ eventType: "system.api_token.create" });
  return { event, delivery: oktaDelivery([event]) };
}

/** Sends the request and asserts nothing was written: no rows at all, and not this delivery's. */
async function expectRejected(
  request: Request,
  status: number,
  code: string,
  overrides?: Partial<Env>,
): Promise<ErrorBody> {
  const before = await tableCounts();
  const res = overrides ? await sendWithEnv(request, overrides) : await send(request);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await res.json<ErrorBody>();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(await tableCounts()).toEqual(before);
  return body;
}

describe("authentication", () => {
  it("answers 401 with the same body for a missing and a wrong secret, storing nothing", async () => {
    const { event, delivery } = validDelivery();
    const body = JSON.stringify(delivery);
    const { Authorization: _, ...noSecret } = oktaHeaders(HOOK_SECRET);
    const missing = await expectRejected(hookRequest({ headers: noSecret, body }), 401, "unauthorized");
    const wrong = await expectRejected(
      hookRequest({ headers: oktaHeaders("wrong-secret"), body }),
      401,
      "unauthorized",
    );
    expect(wrong).toEqual(missing);
    expect(JSON.stringify(wrong)).not.toContain("wrong-secret");
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
    expect(await storedEvent(String(event.uuid))).toBeNull();
  });

  it("rejects the right secret in the wrong header when OKTA_AUTH_HEADER is X-API-Key", async () => {
    const { delivery } = validDelivery();
    await expectRejected(hookRequest({ body: JSON.stringify(delivery) }), 401, "unauthorized", {
      OKTA_AUTH_HEADER: "X-API-Key",
    });
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("checks the secret before reading the body", async () => {
    const { Authorization: _, ...noSecret } = oktaHeaders(HOOK_SECRET);
    await expectRejected(hookRequest({ headers: noSecret, body: "{not json" }), 401, "unauthorized");
  });
});

describe("not an Okta delivery", () => {
  it("answers 400 for a body that is not JSON", async () => {
    const body = await expectRejected(
      hookRequest({ body: '{"eventType": "com.okta.event_hook",' }),
      400,
      "bad_request",
    );
    expect(body.error.message).toMatch(/not valid JSON/);
  });

  it("answers 400 for an envelope whose eventType is not com.okta.event_hook", async () => {
    const { delivery } = validDelivery();
    const body = await expectRejected(
      hookRequest({ body: JSON.stringify({ ...delivery, eventType: "com.okta.inline_hook" }) }),
      400,
      "bad_request",
    );
    expect(body.error.message).toContain("eventType");
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("answers 400 when data.events is missing", async () => {
    const { delivery } = validDelivery();
    const body = await expectRejected(
      hookRequest({ body: JSON.stringify({ ...delivery, data: {} }) }),
      400,
      "bad_request",
    );
    expect(body.error.message).toContain("data.events");
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("answers 400 naming the field path when one event has no uuid, storing none of the others", async () => {
    const good = oktaEvent({ eventType: "system.import.start" });
    const { uuid: _, ...noUuid } = oktaEvent({ eventType: "system.import.complete" });
    const delivery = oktaDelivery([good, noUuid]);
    const body = await expectRejected(hookRequest({ body: JSON.stringify(delivery) }), 400, "bad_request");
    expect(body.error.message).toContain("data.events[1].uuid");
    expect(await storedEvent(String(good.uuid))).toBeNull();
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("answers 400 naming the field when an event's published is not a date", async () => {
    const bad = oktaEvent({ eventType: "system.import.start", published: "yesterday-ish" });
    const body = await expectRejected(hookRequest({ body: JSON.stringify(oktaDelivery([bad])) }), 400, "bad_request");
    expect(body.error.message).toContain("data.events[0].published");
  });

  it.each([
    ["text/plain", "text/plain"],
    ["form-encoded", "application/x-www-form-urlencoded"],
    ["missing", undefined],
  ])("answers 415 when the content type is %s", async (_, contentType: string | undefined) => {
    const { delivery } = validDelivery();
    const { "content-type": __, ...headers } = oktaHeaders(HOOK_SECRET);
    if (contentType) headers["content-type"] = contentType;
    const request = new Request("http://worker.test/hooks/okta", {
      method: "POST",
      headers,
      body: new TextEncoder().encode(JSON.stringify(delivery)),
    });
    await expectRejected(request, 415, "unsupported_media_type");
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });
});

describe("body size", () => {
  it("answers 413 for a body over MAX_BODY_BYTES sent with a Content-Length", async () => {
    const { delivery } = validDelivery();
    const text = JSON.stringify(delivery);
    expect(text.length).toBeGreaterThan(512);
    await expectRejected(hookRequest({ body: text }), 413, "payload_too_large", { MAX_BODY_BYTES: "512" });
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("answers 413 for an oversized body streamed without a Content-Length", async () => {
    const { delivery } = validDelivery();
    const bytes = new TextEncoder().encode(JSON.stringify(delivery));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
        controller.close();
      },
    });
    const request = hookRequest({ body: stream });
    expect(request.headers.get("content-length")).toBeNull();
    await expectRejected(request, 413, "payload_too_large", { MAX_BODY_BYTES: "512" });
    expect(await deliveryExists(String(delivery.eventId))).toBe(false);
  });

  it("accepts the same body when the limit allows it", async () => {
    const { event, delivery } = validDelivery();
    const res = await sendWithEnv(hookRequest({ body: JSON.stringify(delivery) }), { MAX_BODY_BYTES: "65536" });
    expect(res.status).toBe(200);
    expect(await storedEvent(String(event.uuid))).not.toBeNull();
  });
});

describe("methods", () => {
  it.each(["PUT", "DELETE", "PATCH"])("answers 405 with Allow: GET, POST for %s", async (method) => {
    const { delivery } = validDelivery();
    const request = hookRequest({ method, headers: oktaHeaders(HOOK_SECRET), body: JSON.stringify(delivery) });
    const before = await tableCounts();
    const res = await send(request);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect((await res.json<ErrorBody>()).error.code).toBe("method_not_allowed");
    expect(await tableCounts()).toEqual(before);
  });
});
