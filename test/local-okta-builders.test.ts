/** The local Okta sender's events look like Okta's (shared/okta-event-hooks.md §2.4-2.6, §4.2). */
import { describe, expect, it } from "vitest";
import { SYSTEM_CATEGORY_EVENT_TYPES } from "../src/okta/event-types";
import { type OktaObject, oktaEvent, senderDisplayName } from "../tools/local-okta/builders";

const targets = (event: Record<string, unknown>) => event.target as OktaObject[];

describe("oktaEvent", () => {
  it("carries Okta's human displayMessage, never the event type", () => {
    for (const { eventType } of SYSTEM_CATEGORY_EVENT_TYPES) {
      const message = oktaEvent({ eventType }).displayMessage;
      expect(message, eventType).toEqual(expect.any(String));
      expect(message, eventType).not.toContain(".");
    }
    // The ones public captures show verbatim.
    expect(oktaEvent({ eventType: "system.api_token.create" }).displayMessage).toBe("Create API token");
    expect(oktaEvent({ eventType: "system.api_token.revoke" }).displayMessage).toBe("Revoke API token");
    expect(oktaEvent({ eventType: "system.org.rate_limit.warning" }).displayMessage).toBe("Rate limit warning");
  });

  it("names a token sent with --asset after its ID, and takes --name for any asset", () => {
    expect(senderDisplayName("system.api_token.create")).toBeUndefined();
    expect(senderDisplayName("system.api_token.revoke", "00Tother123")).toBe("api-token-00Tother123");
    expect(senderDisplayName("system.api_token.create", "00Tother123", "tmp-build")).toBe("tmp-build");
    expect(senderDisplayName("system.import.start", "0oaAD1")).toBeUndefined();
    const [token] = targets(oktaEvent({ eventType: "system.api_token.create", displayName: "tmp-build" }));
    expect(token).toMatchObject({ type: "Token", alternateId: "unknown", displayName: "tmp-build" });
  });

  it("gives a rate limit's URL Pattern target the endpoint as its alternateId", () => {
    const [pattern, bucket] = targets(
      oktaEvent({ eventType: "system.org.rate_limit.warning", assetId: "/api/v1/apps" }),
    );
    expect(pattern).toMatchObject({ id: "/api/v1/apps", type: "URL Pattern", alternateId: "/api/v1/apps" });
    expect(bucket).toMatchObject({ type: "Bucket Uuid" });
  });

  it("shapes AppInstance targets like Okta's own capture: alternateId and displayName both the app's label", () => {
    for (const eventType of ["system.import.start", "system.import.complete", "system.import.roadblock"]) {
      const [app] = targets(oktaEvent({ eventType, assetId: "0oaAD1" }));
      expect(app).toMatchObject({ id: "0oaAD1", type: "AppInstance" });
      expect(app?.alternateId).toBe(app?.displayName);
    }
  });

  it("puts an explicit display name on the primary target of any type", () => {
    const [, phone] = targets(
      oktaEvent({ eventType: "system.sms.send_phone_verification_message", displayName: "Jane's phone" }),
    );
    expect(phone).toMatchObject({ type: "MobilePhone", displayName: "Jane's phone" });
  });
});
