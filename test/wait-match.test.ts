import { describe, expect, it } from "vitest";
import { firstAccepted, waitAccepts } from "../src/durable/wait-match";
import type { AssetEvent } from "../src/durable/wait-messages";

function event(eventType: string, eventDate: string, uuid = crypto.randomUUID()): AssetEvent {
  return {
    uuid,
    fields: {
      id: "0oaAPP",
      type: "AppInstance",
      alternateId: null,
      displayName: "AD",
      eventType,
      eventResult: "SUCCESS",
      eventDate,
      eventTimestamp: eventDate,
    },
  };
}

const trigger = { uuid: "trigger-uuid", eventDate: "2026-01-01T10:00:00.000Z" };
const wait = { eventTypes: ["system.import.complete", "system.import.roadblock"], filter: null, after: trigger };

describe("waitAccepts", () => {
  it("accepts a listed type published after the last event the run saw", () => {
    expect(waitAccepts(wait, event("system.import.complete", "2026-01-01T10:00:01.000Z"))).toBe(true);
  });

  it("refuses other types, the run's own event, and events published before it", () => {
    expect(waitAccepts(wait, event("system.import.start", "2026-01-01T10:00:01.000Z"))).toBe(false);
    expect(waitAccepts(wait, event("system.import.complete", "2026-01-01T10:00:01.000Z", "trigger-uuid"))).toBe(false);
    expect(waitAccepts(wait, event("system.import.complete", "2026-01-01T09:59:59.999Z"))).toBe(false);
  });

  it("accepts another event published in the same millisecond (one Okta batch)", () => {
    expect(waitAccepts(wait, event("system.import.complete", "2026-01-01T10:00:00.000Z"))).toBe(true);
  });

  it("with no types listed accepts any System Category event, never one outside it", () => {
    const any = { ...wait, eventTypes: [] };
    expect(waitAccepts(any, event("system.api_token.revoke", "2026-01-01T11:00:00.000Z"))).toBe(true);
    expect(waitAccepts(any, event("user.session.start", "2026-01-01T11:00:00.000Z"))).toBe(false);
  });

  it("applies the filter to the Event Fields", () => {
    const filtered = { ...wait, filter: { field: "eventResult" as const, op: "eq" as const, value: "FAILURE" } };
    expect(waitAccepts(filtered, event("system.import.complete", "2026-01-01T10:00:01.000Z"))).toBe(false);
  });
});

describe("firstAccepted", () => {
  it("takes the earliest published accepted event from the buffer", () => {
    const later = event("system.import.roadblock", "2026-01-01T10:05:00.000Z");
    const earlier = event("system.import.complete", "2026-01-01T10:01:00.000Z");
    const before = event("system.import.complete", "2026-01-01T09:00:00.000Z");
    expect(firstAccepted(wait, [later, before, earlier])?.uuid).toBe(earlier.uuid);
    expect(firstAccepted(wait, [before])).toBeNull();
  });
});
