/**
 * Health: `/healthz` (no auth, no data: can the Worker reach D1?) and `/api/status`
 * (the figures on-call checks first); and the one log line each delivery writes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { readStatus } from "../src/routes/status";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../tools/local-okta/builders";
import { infoLines } from "./expected-logs";
import { downD1 } from "./fault-support";
import { HOOK_SECRET, hookRequest, postDelivery, send, sendWithEnv } from "./support";
import { apiJson, consumed, storeWithoutEnqueue } from "./workflow-support";

describe("GET /healthz", () => {
  it("answers 200 without credentials, and says nothing but that", async () => {
    const res = await send(new Request("http://worker.test/healthz"));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers 503 in the one error shape when D1 is unreachable", async () => {
    const res = await sendWithEnv(new Request("http://worker.test/healthz"), { DB: downD1() });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "unavailable", message: "D1 is unreachable" } });
  });
});

/** Inserts a run as the engine would have left it. */
async function insertRun(run: { status: string; waitingUntil?: string; endedAt?: string }) {
  const id = `run-${crypto.randomUUID()}`;
  const now = new Date().toISOString();
  const waitingFor = run.waitingUntil
    ? JSON.stringify({ assetId: "a", eventTypes: [], until: run.waitingUntil })
    : null;
  await env.DB.prepare(
    `insert into runs (id, workflow_id, workflow_version, trigger_event_uuid, status, waiting_for, started_at, updated_at, ended_at)
     values (?, 'wf-status', 1, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(id, crypto.randomUUID(), run.status, waitingFor, now, now, run.endedAt ?? null)
    .run();
  return id;
}

describe("GET /api/status", () => {
  it("needs the admin token", async () => {
    const res = await send(new Request("http://worker.test/api/status"));
    expect(res.status).toBe(401);
  });

  it("gives the oldest unhandled event, stranded events, waits, the soonest deadline, failures and the last delivery", async () => {
    const handled = oktaEvent({ eventType: "system.api_token.create" });
    expect((await postDelivery(oktaDelivery([handled]))).status).toBe(200);
    await consumed(String(handled.uuid));
    const unhandled = await storeWithoutEnqueue({ eventType: "system.import.start" });
    const unhandledAt = (
      await env.DB.prepare("select event_timestamp as at from events where uuid = ?")
        .bind(unhandled.uuid)
        .first<{ at: string }>()
    )?.at;
    const soon = new Date(Date.now() + 60 * 60_000).toISOString();
    await insertRun({ status: "waiting", waitingUntil: new Date(Date.now() + 2 * 60 * 60_000).toISOString() });
    await insertRun({ status: "waiting", waitingUntil: soon });
    await insertRun({ status: "failed", endedAt: new Date().toISOString() });
    await insertRun({ status: "failed", endedAt: new Date(Date.now() - 25 * 60 * 60_000).toISOString() });

    const status = await apiJson<Record<string, unknown>>("GET", "/api/status");
    expect(status).toMatchObject({
      oldestUnconsumedEvent: { receivedAt: unhandledAt, ageSeconds: expect.any(Number) },
      strandedEvents: 0,
      runsWaiting: 2,
      soonestDeadline: soon,
      runsFailedLast24h: 1,
      lastDeliveryAt: expect.any(String),
      openDeadLetters: 0,
    });

    // Ten minutes on, nothing has handled the event: it is stranded, and its age shows it.
    const later = await readStatus(createDb(env.DB), new Date(Date.now() + 10 * 60_000));
    expect(later.strandedEvents).toBe(1);
    expect(later.oldestUnconsumedEvent?.ageSeconds).toBeGreaterThanOrEqual(600);
  });
});

describe("delivery logs", () => {
  it("one line per accepted delivery, with its ID and counts, and nothing Okta sent", async () => {
    const lines = infoLines();
    const event = oktaEvent({ eventType: "system.api_token.create", displayName: "very-secret-looking-token-name" });
    const delivery = oktaDelivery([event, event]);
    expect((await postDelivery(delivery)).status).toBe(200);
    const accepted = lines.filter((line) => line.msg === "delivery accepted");
    expect(accepted).toEqual([
      {
        msg: "delivery accepted",
        deliveryId: delivery.eventId,
        events: 1,
        stored: 1,
        duplicates: 0,
        enqueued: true,
        ms: expect.any(Number),
      },
    ]);
    const text = JSON.stringify(lines);
    expect(text).not.toContain("very-secret-looking-token-name");
    expect(text).not.toContain(HOOK_SECRET);
  });

  it("a refused delivery logs its status and code, never the secret it was sent", async () => {
    const lines = infoLines();
    const wrongSecret = "wrong-secret-value-0123456789";
    const res = await send(hookRequest({ headers: oktaHeaders(wrongSecret), body: JSON.stringify(oktaDelivery([])) }));
    expect(res.status).toBe(401);
    expect(lines).toEqual([{ msg: "delivery refused", status: 401, code: "unauthorized", ms: expect.any(Number) }]);
    expect(JSON.stringify(lines)).not.toContain(wrongSecret);
  });
});
