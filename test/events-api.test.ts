/** The admin events API: bearer auth, the error shape, listing with filters and cursors, one event, the catalogue. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { capturedRateLimitTargets, oktaDelivery, oktaEvent } from "../tools/local-okta/builders";
import { ADMIN_TOKEN, postDelivery } from "./support";

const BASE = "http://worker.test";

interface ApiEvent {
  uuid: string;
  id: string | null;
  type: string | null;
  alternateId: string | null;
  displayName: string | null;
  eventType: string;
  eventResult: string | null;
  eventDate: string;
  eventTimestamp: string;
  inCategory: boolean;
  [key: string]: unknown;
}

interface EventPage {
  events: ApiEvent[];
  nextCursor: string | null;
}

interface ErrorBody {
  error: { code: string; message: string };
}

function api(path: string, authorization: string | null = `Bearer ${ADMIN_TOKEN}`): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, { headers: authorization === null ? {} : { authorization } });
}

async function apiJson<T>(path: string): Promise<T> {
  const res = await api(path);
  expect(res.status, `${path}: ${res.status}`).toBe(200);
  return res.json<T>();
}

/** Stores events on one fresh asset, each published at the given time, through the real hook. */
async function seedAsset(
  published: string[],
  eventType = "system.api_token.create",
): Promise<{ assetId: string; uuids: string[] }> {
  const assetId = `00T-${crypto.randomUUID()}`;
  const events = published.map((at) => oktaEvent({ eventType, assetId, published: at }));
  expect((await postDelivery(oktaDelivery(events))).status).toBe(200);
  return { assetId, uuids: events.map((event) => String(event.uuid)) };
}

describe("authentication", () => {
  it.each([
    ["no Authorization header", null],
    ["a wrong bearer token", "Bearer not-the-admin-token"],
    ["the right token without the Bearer scheme", ADMIN_TOKEN],
    ["the hook secret instead of the admin token", "Bearer test-hook-secret"],
  ])("answers 401 with the error shape for %s", async (_, authorization) => {
    for (const path of ["/api/events", `/api/events/${crypto.randomUUID()}`, "/api/event-types"]) {
      const res = await api(path, authorization);
      expect(res.status, path).toBe(401);
      const body = await res.json<ErrorBody>();
      expect(body).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
      expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
    }
  });

  it("does not let a path ending in /openapi.json skip the token", async () => {
    const res = await api("/api/events/openapi.json", null);
    expect(res.status).toBe(401);
  });
});

describe("GET /api/events", () => {
  it("lists an asset's events newest first by Okta's published time", async () => {
    const { assetId, uuids } = await seedAsset([
      "2021-03-01T10:00:00.000Z",
      "2021-03-03T10:00:00.000Z",
      "2021-03-02T10:00:00.000Z",
    ]);
    const page = await apiJson<EventPage>(`/api/events?id=${encodeURIComponent(assetId)}`);
    expect(page.events.map((event) => event.uuid)).toEqual([uuids[1], uuids[2], uuids[0]]);
    expect(page.events.map((event) => event.eventDate)).toEqual([
      "2021-03-03T10:00:00.000Z",
      "2021-03-02T10:00:00.000Z",
      "2021-03-01T10:00:00.000Z",
    ]);
    expect(page.nextCursor).toBeNull();
    expect(page.events[0]).toMatchObject({ id: assetId, type: "Token", eventType: "system.api_token.create" });
  });

  it("filters by eventType", async () => {
    const created = await seedAsset(["2022-01-01T00:00:00.000Z"], "system.import.roadblock");
    const other = await seedAsset(["2022-01-01T00:00:00.000Z"], "system.import.complete");
    const page = await apiJson<EventPage>("/api/events?eventType=system.import.roadblock&limit=200");
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((event) => event.eventType === "system.import.roadblock")).toBe(true);
    const listed = page.events.map((event) => event.uuid);
    expect(listed).toContain(created.uuids[0]);
    expect(listed).not.toContain(other.uuids[0]);
  });

  it("filters by asset id, listing no other asset's events", async () => {
    const mine = await seedAsset(["2022-02-01T00:00:00.000Z", "2022-02-02T00:00:00.000Z"]);
    await seedAsset(["2022-02-01T12:00:00.000Z"]);
    const page = await apiJson<EventPage>(`/api/events?id=${encodeURIComponent(mine.assetId)}`);
    expect(page.events.map((event) => event.uuid).sort()).toEqual([...mine.uuids].sort());
  });

  it("filters by since and until, both inclusive, whatever offset they are written in", async () => {
    const { assetId, uuids } = await seedAsset([
      "2023-05-01T00:00:00.000Z",
      "2023-05-02T00:00:00.000Z",
      "2023-05-03T00:00:00.000Z",
      "2023-05-04T00:00:00.000Z",
    ]);
    const id = encodeURIComponent(assetId);
    const inclusive = await apiJson<EventPage>(
      `/api/events?id=${id}&since=2023-05-02T00:00:00.000Z&until=2023-05-03T00:00:00.000Z`,
    );
    expect(inclusive.events.map((event) => event.uuid)).toEqual([uuids[2], uuids[1]]);

    const since = encodeURIComponent("2023-05-03T02:00:00+02:00");
    const fromOffset = await apiJson<EventPage>(`/api/events?id=${id}&since=${since}`);
    expect(fromOffset.events.map((event) => event.uuid)).toEqual([uuids[3], uuids[2]]);
  });

  it("pages with limit and cursor through every event exactly once, ties included", async () => {
    const { assetId, uuids } = await seedAsset([
      "2024-01-01T00:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
      "2024-01-02T00:00:00.000Z",
      "2024-01-03T00:00:00.000Z",
    ]);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/events?id=${encodeURIComponent(assetId)}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page: EventPage = await apiJson<EventPage>(query);
      pageSizes.push(page.events.length);
      seen.push(...page.events.map((event) => event.uuid));
      cursor = page.nextCursor;
    } while (cursor && pageSizes.length < 10);

    expect(pageSizes).toEqual([2, 2, 1]);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort()).toEqual([...uuids].sort());
    expect(seen[0]).toBe(uuids[4]);
    expect(seen[4]).toBe(uuids[0]);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=abc", "limit"],
    ["since=yesterday", "since"],
    ["cursor=not-a-cursor", "cursor"],
  ])("answers 400 naming the parameter for %s", async (query, field) => {
    const res = await api(`/api/events?${query}`);
    expect(res.status).toBe(400);
    const body = await res.json<ErrorBody>();
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toContain(field);
  });
});

describe("GET /api/events/:uuid", () => {
  it("returns the Event Fields, what is kept beside them, and the raw Okta event", async () => {
    const event = oktaEvent({
      eventType: "system.org.rate_limit.violation",
      target: capturedRateLimitTargets("/api/v1/users"),
      result: "Success",
      reason: "limit exceeded",
      published: "2025-01-02T03:04:05.678Z",
    });
    const delivery = oktaDelivery([event]);
    const before = new Date().toISOString();
    expect((await postDelivery(delivery)).status).toBe(200);

    const detail = await apiJson<ApiEvent & { raw: unknown }>(`/api/events/${event.uuid}`);
    expect(detail).toMatchObject({
      uuid: event.uuid,
      id: "/api/v1/users",
      type: "URL Pattern",
      alternateId: null,
      displayName: "/api/v1/users",
      eventType: "system.org.rate_limit.violation",
      eventResult: "SUCCESS",
      eventDate: "2025-01-02T03:04:05.678Z",
      inCategory: true,
      outcomeReason: "limit exceeded",
      deliveryId: delivery.eventId,
      actor: {
        id: "00u4729hjsVRU197Y5d7",
        type: "User",
        alternateId: "admin@example.com",
        displayName: "Example Admin",
      },
    });
    expect(detail.eventTimestamp >= before).toBe(true);
    expect(detail.raw).toEqual(event);
  });

  it("answers 404 with the error shape for an unknown uuid", async () => {
    const res = await api(`/api/events/${crypto.randomUUID()}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });
});

describe("GET /api/event-types", () => {
  it("returns the 13 System Category types and the 9 Event Fields", async () => {
    const catalogue = await apiJson<{
      category: string;
      eventTypes: { eventType: string; displayName: string; description: string }[];
      eventFields: { key: string; name: string }[];
    }>("/api/event-types");
    expect(catalogue.category).toBe("Okta System Category");
    expect(catalogue.eventTypes.map((t) => t.eventType).sort()).toEqual(
      [
        "access.request.create",
        "access.request.resolve",
        "security.authenticator.lifecycle.activate",
        "security.authenticator.lifecycle.deactivate",
        "system.api_token.create",
        "system.api_token.revoke",
        "system.import.complete",
        "system.import.roadblock",
        "system.import.start",
        "system.org.rate_limit.violation",
        "system.org.rate_limit.warning",
        "system.sms.send_phone_verification_message",
        "system.voice.send_phone_verification_call",
      ].sort(),
    );
    expect(catalogue.eventTypes).toContainEqual({
      eventType: "system.import.roadblock",
      displayName: "Import roadblocks",
      description: "An import roadblock was triggered due to an exceeded threshold.",
    });
    expect(catalogue.eventFields.map((f) => f.key)).toEqual([
      "id",
      "type",
      "alternateId",
      "displayName",
      "eventType",
      "eventResult",
      "eventDate",
      "eventTimestamp",
      "source",
    ]);
  });
});

describe("GET /api/openapi.json", () => {
  it("is served without a token and describes /api/events at a URL that answers", async () => {
    const res = await api("/api/openapi.json", null);
    expect(res.status).toBe(200);
    const doc = await res.json<{ openapi: string; servers?: { url: string }[]; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    const server = doc.servers?.[0]?.url ?? "";
    const paths = Object.keys(doc.paths).map((path) => `${server}${path}`);
    expect(paths).toEqual(expect.arrayContaining(["/api/events", "/api/events/{uuid}", "/api/event-types"]));
    // The documented URL is the one that works.
    expect((await api(new URL(`${server}/events`, `${BASE}/api/openapi.json`).pathname)).status).toBe(200);
  });
});
