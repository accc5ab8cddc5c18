/** src/okta/normalise.ts: Okta LogEvents to Event Fields, pure, including the oddities real Okta sends. */
import { describe, expect, it } from "vitest";
import { LogEvent, OktaEnvelope } from "../src/okta/envelope";
import { SYSTEM_EVENT_TYPES } from "../src/okta/event-types";
import { normaliseEvent } from "../src/okta/normalise";
import { type OktaEventOptions, type OktaObject, oktaDelivery, oktaEvent } from "../tools/local-okta/builders";

const RECEIVED_AT = new Date("2025-05-05T10:00:03.250Z");
const PUBLISHED = "2025-05-05T10:00:01.123Z";
const DELIVERY_ID = "delivery-0001";

/** Builds an event, runs it through the envelope schema as the hook does, then normalises it. */
function normalise(options: OktaEventOptions | Record<string, unknown>) {
  const event =
    "eventType" in options && typeof options.eventType === "string" && !("uuid" in options)
      ? oktaEvent({ published: PUBLISHED, ...(options as OktaEventOptions) })
      : options;
  return normaliseEvent(LogEvent.parse(event), DELIVERY_ID, RECEIVED_AT);
}

const USER: OktaObject = { id: "00uUSER01", type: "User", alternateId: "jane@example.com", displayName: "Jane Doe" };
const ACTOR: OktaObject = { id: "00uADMIN1", type: "User", alternateId: "admin@example.com", displayName: "Admin" };

describe("the 13 System Category types with the builders' default targets", () => {
  const expected: Record<string, { id: string; type: string; alternateId: string | null; displayName: string }> = {
    "system.sms.send_phone_verification_message": {
      id: "mbl-1",
      type: "MobilePhone",
      alternateId: "+14155550100",
      displayName: "+14155550100",
    },
    "system.voice.send_phone_verification_call": {
      id: "mbl-2",
      type: "MobilePhone",
      alternateId: "+14155550100",
      displayName: "+14155550100",
    },
    "system.api_token.create": { id: "00T-1", type: "Token", alternateId: "unknown", displayName: "ci-deploy-token" },
    "system.api_token.revoke": { id: "00T-2", type: "Token", alternateId: "unknown", displayName: "ci-deploy-token" },
    "system.org.rate_limit.warning": {
      id: "/api/v1/users",
      type: "URL Pattern",
      alternateId: "/api/v1/users",
      displayName: "/api/v1/users",
    },
    "system.org.rate_limit.violation": {
      id: "/api/v1/groups",
      type: "URL Pattern",
      alternateId: "/api/v1/groups",
      displayName: "/api/v1/groups",
    },
    "system.import.start": {
      id: "0oa-1",
      type: "AppInstance",
      alternateId: "example.local",
      displayName: "example.local",
    },
    "system.import.complete": {
      id: "0oa-2",
      type: "AppInstance",
      alternateId: "example.local",
      displayName: "example.local",
    },
    "system.import.roadblock": {
      id: "0oa-3",
      type: "AppInstance",
      alternateId: "example.local",
      displayName: "example.local",
    },
    "security.authenticator.lifecycle.activate": {
      id: "aut-1",
      type: "Authenticator",
      alternateId: "okta_verify",
      displayName: "Okta Verify",
    },
    "security.authenticator.lifecycle.deactivate": {
      id: "aut-2",
      type: "Authenticator",
      alternateId: "okta_verify",
      displayName: "Okta Verify",
    },
    "access.request.create": {
      id: "acr-1",
      type: "AccessRequest",
      alternateId: "Salesforce access",
      displayName: "Access to Salesforce",
    },
    "access.request.resolve": {
      id: "acr-2",
      type: "AccessRequest",
      alternateId: "Salesforce access",
      displayName: "Access to Salesforce",
    },
  };

  it("covers exactly the 13 catalogue types", () => {
    expect(Object.keys(expected).sort()).toEqual([...SYSTEM_EVENT_TYPES].sort());
  });

  it.each(Object.entries(expected))("%s", (eventType, asset) => {
    const event = oktaEvent({ eventType, assetId: asset.id, published: PUBLISHED });
    const normalised = normaliseEvent(LogEvent.parse(event), DELIVERY_ID, RECEIVED_AT);
    expect(normalised.fields).toEqual({
      ...asset,
      eventType,
      eventResult: "SUCCESS",
      eventDate: PUBLISHED,
      eventTimestamp: RECEIVED_AT.toISOString(),
      source: null,
    });
    expect(normalised.inCategory).toBe(true);
    expect(normalised.uuid).toBe(event.uuid);
    expect(normalised.deliveryId).toBe(DELIVERY_ID);
  });
});

describe("the source Event Field", () => {
  it("is the named org whose hook path brought the event, null on the single-org hook", () => {
    const event = LogEvent.parse(oktaEvent({ eventType: "system.api_token.create", published: PUBLISHED }));
    expect(normaliseEvent(event, DELIVERY_ID, RECEIVED_AT, "acme").fields.source).toBe("acme");
    expect(normaliseEvent(event, DELIVERY_ID, RECEIVED_AT).fields.source).toBeNull();
  });
});

describe("the primary-target rule: by type, never by position", () => {
  it("finds the Token behind other targets", () => {
    const { fields } = normalise({
      eventType: "system.api_token.revoke",
      target: [USER, { id: "00T-9", type: "Token", alternateId: "unknown", displayName: "old-token" }],
    });
    expect(fields).toMatchObject({ id: "00T-9", type: "Token", displayName: "old-token" });
  });

  it("prefers URL Pattern to Bucket Uuid whatever their order", () => {
    const { fields } = normalise({
      eventType: "system.org.rate_limit.violation",
      target: [
        { id: "bucket-7", type: "Bucket Uuid", alternateId: null, displayName: null },
        { id: "/oauth2/v1/token", type: "URL Pattern", alternateId: null, displayName: null },
      ],
    });
    expect(fields).toMatchObject({ id: "/oauth2/v1/token", type: "URL Pattern", displayName: "/oauth2/v1/token" });
  });

  it("prefers MobilePhone to User for the voice call", () => {
    const { fields } = normalise({
      eventType: "system.voice.send_phone_verification_call",
      target: [USER, { id: "mbl-5", type: "MobilePhone", alternateId: "+14155550199" }],
    });
    expect(fields).toMatchObject({ id: "mbl-5", type: "MobilePhone", displayName: "+14155550199" });
  });

  it("uses the User target for an Identity Engine SMS with no MobilePhone target", () => {
    const { fields } = normalise({
      eventType: "system.sms.send_phone_verification_message",
      target: [{ id: "00gGROUP1", type: "UserGroup", alternateId: "Everyone", displayName: "Everyone" }, USER],
    });
    expect(fields).toMatchObject({ id: "00uUSER01", type: "User", displayName: "Jane Doe" });
  });

  it("falls back to the first target when no target has a preferred type", () => {
    const { fields } = normalise({
      eventType: "system.import.start",
      target: [USER, { id: "0oa-x", type: "SomethingElse", alternateId: null, displayName: null }],
    });
    expect(fields).toMatchObject({ id: "00uUSER01", type: "User" });
  });

  it("uses the first target for access requests", () => {
    const { fields } = normalise({
      eventType: "access.request.create",
      target: [
        { id: "acr-9", type: "AccessRequest", alternateId: null, displayName: "Request 9" },
        { id: "0oa-sf", type: "AppInstance", alternateId: "salesforce", displayName: "Salesforce" },
      ],
    });
    expect(fields).toMatchObject({ id: "acr-9", type: "AccessRequest", displayName: "Request 9" });
  });

  it("uses the actor when the target is null", () => {
    const { fields } = normalise({ eventType: "system.import.complete", target: null, actor: ACTOR });
    expect(fields).toMatchObject({
      id: "00uADMIN1",
      type: "User",
      alternateId: "admin@example.com",
      displayName: "Admin",
    });
  });

  it("uses the actor when the target is an empty array", () => {
    const { fields } = normalise({ eventType: "system.import.complete", target: [], actor: ACTOR });
    expect(fields.id).toBe("00uADMIN1");
  });

  it("leaves the asset fields null when both actor and target are null", () => {
    const normalised = normalise({ eventType: "system.api_token.create", target: null, actor: null });
    expect(normalised.fields).toMatchObject({ id: null, type: null, alternateId: null, displayName: null });
    expect(normalised.actor).toBeNull();
  });
});

describe("display name fallback", () => {
  it("uses alternateId when displayName is null", () => {
    const { fields } = normalise({
      eventType: "system.api_token.create",
      target: [{ id: "00T-3", type: "Token", alternateId: "token-alt", displayName: null }],
    });
    expect(fields.displayName).toBe("token-alt");
  });

  it("uses id when displayName and alternateId are both null (rate-limit targets)", () => {
    const { fields } = normalise({
      eventType: "system.org.rate_limit.warning",
      target: [{ id: "/api/v1/apps", type: "URL Pattern", alternateId: null, displayName: null }],
    });
    expect(fields).toMatchObject({ alternateId: null, displayName: "/api/v1/apps" });
  });

  it("uses id when the names are absent altogether", () => {
    const { fields } = normalise({
      eventType: "system.org.rate_limit.warning",
      target: [{ id: "/x", type: "URL Pattern" }],
    });
    expect(fields).toMatchObject({ alternateId: null, displayName: "/x" });
  });
});

describe("event result and dates", () => {
  it.each([
    ["Success", "SUCCESS"],
    ["deny", "DENY"],
    ["RATE_LIMIT", "RATE_LIMIT"],
  ])("upper-cases the result %s", (result, expected) => {
    expect(normalise({ eventType: "system.api_token.create", result }).fields.eventResult).toBe(expected);
  });

  it("keeps eventResult null when outcome is null or has no result", () => {
    const base = oktaEvent({ eventType: "system.import.start", published: PUBLISHED });
    expect(normalise({ ...base, outcome: null }).fields.eventResult).toBeNull();
    expect(normalise({ ...base, outcome: { reason: "why" } }).fields.eventResult).toBeNull();
    expect(normalise({ ...base, outcome: { reason: "why" } }).outcomeReason).toBe("why");
  });

  it("writes eventDate as UTC ISO 8601 whatever offset Okta used", () => {
    const { fields } = normalise({ eventType: "system.import.start", published: "2025-05-05T12:00:01.123+02:00" });
    expect(fields.eventDate).toBe("2025-05-05T10:00:01.123Z");
  });

  it("takes eventTimestamp from the arrival time, not from Okta", () => {
    const { fields } = normalise({ eventType: "system.import.start", published: "2020-01-01T00:00:00.000Z" });
    expect(fields.eventTimestamp).toBe("2025-05-05T10:00:03.250Z");
  });
});

describe("what is kept beside the Event Fields", () => {
  it("marks types outside the category, such as user.session.start", () => {
    const normalised = normalise({ eventType: "user.session.start", target: null, actor: ACTOR });
    expect(normalised.inCategory).toBe(false);
    expect(normalised.fields).toMatchObject({ eventType: "user.session.start", id: "00uADMIN1" });
  });

  it("keeps the actor without Okta's extra keys, outcome reason and displayMessage", () => {
    const normalised = normalise({
      eventType: "system.api_token.create",
      actor: { ...ACTOR, detailEntry: null },
      reason: "because",
      displayMessage: "Create API token",
    });
    expect(normalised.actor).toEqual({
      id: "00uADMIN1",
      type: "User",
      alternateId: "admin@example.com",
      displayName: "Admin",
    });
    expect(normalised.outcomeReason).toBe("because");
    expect(normalised.displayMessage).toBe("Create API token");
  });

  it('keeps the whole raw event, extra keys and zone "null" included', () => {
    const event = { ...oktaEvent({ eventType: "system.import.start" }), brandNewOktaKey: { a: 1 } };
    const { raw } = normaliseEvent(LogEvent.parse(event), DELIVERY_ID, RECEIVED_AT);
    expect(raw).toEqual(event);
    expect(raw).toHaveProperty("client.zone", "null");
  });

  it("accepts an event with no client through the envelope schema", () => {
    const { client: _, ...noClient } = oktaEvent({ eventType: "system.import.start", published: PUBLISHED });
    const envelope = OktaEnvelope.parse(oktaDelivery([noClient]));
    const [event] = envelope.data.events;
    expect(event).toBeDefined();
    if (!event) return;
    const normalised = normaliseEvent(event, envelope.eventId, RECEIVED_AT);
    expect(normalised.fields.type).toBe("AppInstance");
    expect(normalised.raw).not.toHaveProperty("client");
  });
});
