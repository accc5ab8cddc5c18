/**
 * POST /hooks/okta with valid deliveries: what is stored, what is enqueued, how
 * redeliveries are handled, and what Okta sees when D1 fails.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { capturedRateLimitTargets, oktaDelivery, oktaEvent, oktaHeaders } from "../tools/local-okta/builders";
import {
  deliveryExists,
  HOOK_SECRET,
  hookRequest,
  postDelivery,
  type StoredEventRow,
  sendWithEnv,
  storedEvent,
  tableCounts,
} from "./support";

async function stored(uuid: unknown): Promise<StoredEventRow> {
  const row = await storedEvent(String(uuid));
  if (!row) throw new Error(`event ${String(uuid)} was not stored`);
  return row;
}

describe("a multi-event delivery with Okta's real oddities", () => {
  it("answers 200 with an empty body, stores every event with its Event Fields, and enqueues them", async () => {
    const published = "2024-11-06T06:34:37.964Z";
    const tokenId = `00T-${crypto.randomUUID()}`;
    const tokenNoActor = oktaEvent({
      eventType: "system.api_token.create",
      assetId: tokenId,
      actor: null,
      published,
    });
    const importNoTarget = oktaEvent({ eventType: "system.import.start", target: null, published });
    const { client: _, ...withoutClient } = oktaEvent({
      eventType: "system.org.rate_limit.warning",
      result: "Success",
      target: capturedRateLimitTargets("/api/v1/users"),
      published,
    });
    const rateLimitOdd: Record<string, unknown> = {
      ...withoutClient,
      insertionTimestamp: "2024-11-06T06:34:38Z",
      somethingOktaAddedLater: { nested: [1, 2, 3] },
    };
    const notInCategory = oktaEvent({
      eventType: "user.session.start",
      target: null,
      result: "FAILURE",
      reason: "INVALID_CREDENTIALS",
      published: "2024-11-06T07:34:37.964+01:00",
    });
    const nothingAtAll = oktaEvent({ eventType: "system.import.roadblock", actor: null, target: null, published });
    const sms = oktaEvent({ eventType: "system.sms.send_phone_verification_message", published });
    const authenticator = oktaEvent({ eventType: "security.authenticator.lifecycle.activate", published });
    const accessRequest = oktaEvent({ eventType: "access.request.resolve", result: "deny", published });
    const events = [
      tokenNoActor,
      importNoTarget,
      rateLimitOdd,
      notInCategory,
      nothingAtAll,
      sms,
      authenticator,
      accessRequest,
    ];
    const delivery: Record<string, unknown> = { ...oktaDelivery(events), someFutureEnvelopeKey: true };

    const before = await tableCounts();
    const sentAt = new Date().toISOString();
    const res = await postDelivery(delivery);
    const answeredAt = new Date().toISOString();

    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(await tableCounts()).toEqual({ deliveries: before.deliveries + 1, events: before.events + 8 });
    const deliveryRow = await env.DB.prepare("select * from deliveries where event_id = ?")
      .bind(delivery.eventId)
      .first();
    expect(deliveryRow).toMatchObject({ event_count: 8, source: delivery.source, event_time: delivery.eventTime });

    const token = await stored(tokenNoActor.uuid);
    expect(token).toMatchObject({
      delivery_id: delivery.eventId,
      asset_id: tokenId,
      asset_type: "Token",
      asset_alternate_id: "unknown",
      asset_display_name: "ci-deploy-token",
      event_type: "system.api_token.create",
      event_result: "SUCCESS",
      event_date: published,
      in_category: 1,
      actor: null,
    });
    expect(token.event_timestamp >= sentAt && token.event_timestamp <= answeredAt).toBe(true);

    // Null target: the actor is the asset.
    expect(await stored(importNoTarget.uuid)).toMatchObject({
      asset_id: "00u4729hjsVRU197Y5d7",
      asset_type: "User",
      asset_alternate_id: "admin@example.com",
      asset_display_name: "Example Admin",
      in_category: 1,
    });

    // Missing client, extra keys, "Success" upper-cased, rate-limit target with null names.
    const rateLimit = await stored(rateLimitOdd.uuid);
    expect(rateLimit).toMatchObject({
      asset_id: "/api/v1/users",
      asset_type: "URL Pattern",
      asset_alternate_id: null,
      asset_display_name: "/api/v1/users",
      event_result: "SUCCESS",
    });
    const rateLimitRaw = JSON.parse(rateLimit.raw);
    expect(rateLimitRaw).not.toHaveProperty("client");
    expect(rateLimitRaw.somethingOktaAddedLater).toEqual({ nested: [1, 2, 3] });
    expect(rateLimitRaw.outcome.result).toBe("Success");

    // Outside the category: stored and enqueued, but marked so it never starts a run.
    const session = await stored(notInCategory.uuid);
    expect(session).toMatchObject({
      event_type: "user.session.start",
      in_category: 0,
      event_result: "FAILURE",
      outcome_reason: "INVALID_CREDENTIALS",
      event_date: "2024-11-06T06:34:37.964Z",
      asset_type: "User",
    });
    expect(JSON.parse(session.raw).client.zone).toBe("null");
    expect(JSON.parse(session.actor ?? "null")).toEqual({
      id: "00u4729hjsVRU197Y5d7",
      type: "User",
      alternateId: "admin@example.com",
      displayName: "Example Admin",
    });

    expect(await stored(nothingAtAll.uuid)).toMatchObject({
      asset_id: null,
      asset_type: null,
      asset_alternate_id: null,
      asset_display_name: null,
      actor: null,
    });
    expect(await stored(sms.uuid)).toMatchObject({ asset_type: "MobilePhone", asset_display_name: "+14155550100" });
    expect(await stored(authenticator.uuid)).toMatchObject({
      asset_type: "Authenticator",
      asset_id: "aut1abcdEFGH0h7",
    });
    expect(await stored(accessRequest.uuid)).toMatchObject({ asset_type: "AccessRequest", event_result: "DENY" });

    // Every event went onto the real queue, and the consumer received it from there.
    for (const event of events) {
      const row = await stored(event.uuid);
      expect(row.enqueued_at, String(event.eventType)).not.toBeNull();
      expect(row.enqueued_at && row.enqueued_at >= sentAt && row.enqueued_at <= answeredAt).toBe(true);
    }
    await vi.waitFor(
      async () => {
        for (const event of events) expect((await stored(event.uuid)).consumed_at).not.toBeNull();
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it("stores and enqueues a batch larger than one queue sendBatch call (130 events)", async () => {
    const events = Array.from({ length: 130 }, (_, i) =>
      oktaEvent({ eventType: i % 2 ? "system.import.complete" : "system.api_token.revoke" }),
    );
    const res = await postDelivery(oktaDelivery(events));
    expect(res.status).toBe(200);
    const uuids = JSON.stringify(events.map((event) => event.uuid));
    const counts = await env.DB.prepare(
      "select count(*) as stored, count(enqueued_at) as enqueued from events where uuid in (select value from json_each(?))",
    )
      .bind(uuids)
      .first();
    expect(counts).toEqual({ stored: 130, enqueued: 130 });
  });

  it("accepts an event with no actor, target, outcome or displayMessage keys at all", async () => {
    const bare = {
      uuid: crypto.randomUUID(),
      published: "2025-03-01T12:00:00.000Z",
      eventType: "system.import.complete",
    };
    const res = await postDelivery(oktaDelivery([bare]));
    expect(res.status).toBe(200);
    expect(await stored(bare.uuid)).toMatchObject({
      asset_id: null,
      event_result: null,
      display_message: null,
      outcome_reason: null,
      in_category: 1,
    });
  });
});

describe("the configured secret on deliveries", () => {
  it("stores a delivery sent with X-API-Key when OKTA_AUTH_HEADER is X-API-Key", async () => {
    const event = oktaEvent({ eventType: "system.api_token.revoke" });
    const res = await sendWithEnv(
      hookRequest({ headers: oktaHeaders(HOOK_SECRET, "X-API-Key"), body: JSON.stringify(oktaDelivery([event])) }),
      { OKTA_AUTH_HEADER: "X-API-Key" },
    );
    expect(res.status).toBe(200);
    expect((await stored(event.uuid)).event_type).toBe("system.api_token.revoke");
  });

  it("stores deliveries sent with either the new or the previous secret during rotation", async () => {
    const rotating = { OKTA_HOOK_SECRET: "new-secret-2", OKTA_HOOK_SECRET_PREVIOUS: "old-secret-1" };
    const viaNew = oktaEvent({ eventType: "system.import.start" });
    const viaOld = oktaEvent({ eventType: "system.import.start" });
    const resNew = await sendWithEnv(
      hookRequest({ headers: oktaHeaders("new-secret-2"), body: JSON.stringify(oktaDelivery([viaNew])) }),
      rotating,
    );
    const resOld = await sendWithEnv(
      hookRequest({ headers: oktaHeaders("old-secret-1"), body: JSON.stringify(oktaDelivery([viaOld])) }),
      rotating,
    );
    expect([resNew.status, resOld.status]).toEqual([200, 200]);
    expect(await storedEvent(String(viaNew.uuid))).not.toBeNull();
    expect(await storedEvent(String(viaOld.uuid))).not.toBeNull();
  });
});

describe("redeliveries", () => {
  it("answers 200 to a repeated eventId and changes nothing", async () => {
    const events = [
      oktaEvent({ eventType: "system.import.start" }),
      oktaEvent({ eventType: "system.import.complete" }),
    ];
    const delivery = oktaDelivery(events);
    expect((await postDelivery(delivery)).status).toBe(200);
    const first = await Promise.all(events.map((event) => stored(event.uuid)));
    const countsAfterFirst = await tableCounts();

    const retry = await postDelivery(delivery);
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe("");
    expect(await tableCounts()).toEqual(countsAfterFirst);
    for (const [i, event] of events.entries()) {
      const again = await stored(event.uuid);
      // Not re-received and not re-enqueued.
      expect(again.event_timestamp).toBe(first[i]?.event_timestamp);
      expect(again.enqueued_at).toBe(first[i]?.enqueued_at);
    }
  });

  it("skips an already-stored uuid inside a new eventId and stores the others", async () => {
    const known = oktaEvent({ eventType: "system.api_token.create", displayMessage: "first copy" });
    const firstDelivery = oktaDelivery([known]);
    expect((await postDelivery(firstDelivery)).status).toBe(200);
    const firstRow = await stored(known.uuid);

    const fresh = oktaEvent({ eventType: "system.api_token.revoke" });
    const secondDelivery = oktaDelivery([{ ...known, displayMessage: "second copy" }, fresh]);
    const before = await tableCounts();
    expect((await postDelivery(secondDelivery)).status).toBe(200);

    expect(await tableCounts()).toEqual({ deliveries: before.deliveries + 1, events: before.events + 1 });
    const knownRow = await stored(known.uuid);
    expect(knownRow.delivery_id).toBe(firstDelivery.eventId);
    expect(knownRow.display_message).toBe("first copy");
    expect(knownRow.enqueued_at).toBe(firstRow.enqueued_at);
    const freshRow = await stored(fresh.uuid);
    expect(freshRow.delivery_id).toBe(secondDelivery.eventId);
    expect(freshRow.enqueued_at).not.toBeNull();
  });

  it("keeps the first copy of a uuid repeated inside one delivery", async () => {
    const event = oktaEvent({ eventType: "system.import.roadblock", displayMessage: "copy one" });
    const before = await tableCounts();
    const res = await postDelivery(oktaDelivery([event, { ...event, displayMessage: "copy two" }]));
    expect(res.status).toBe(200);
    expect((await tableCounts()).events).toBe(before.events + 1);
    expect((await stored(event.uuid)).display_message).toBe("copy one");
  });
});

describe("when D1 fails", () => {
  it("answers 503, writes neither the delivery nor any event, and accepts Okta's retry afterwards", async () => {
    // Eight events span two insert statements; the last one fails inside D1 itself.
    const events = Array.from({ length: 8 }, () => oktaEvent({ eventType: "system.import.start" }));
    const failing = String(events[7]?.uuid);
    const trigger = `fail_${crypto.randomUUID().replaceAll("-", "")}`;
    await env.DB.exec(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON events WHEN NEW.uuid = '${failing}' BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    );
    const delivery = oktaDelivery(events);
    const before = await tableCounts();
    try {
      const res = await postDelivery(delivery);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: "unavailable", message: "the delivery could not be stored; retry later" },
      });
      expect(await tableCounts()).toEqual(before);
      expect(await deliveryExists(String(delivery.eventId))).toBe(false);
      for (const event of events) expect(await storedEvent(String(event.uuid))).toBeNull();
    } finally {
      await env.DB.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    }

    const retry = await postDelivery(delivery);
    expect(retry.status).toBe(200);
    expect(await tableCounts()).toEqual({ deliveries: before.deliveries + 1, events: before.events + 8 });
    for (const event of events) expect((await stored(event.uuid)).enqueued_at).not.toBeNull();
  });
});
