/** The outbound policy as pure rules: declared secrets, their origins, https, loopback in local development, the Okta token. */
import { describe, expect, it } from "vitest";
import { outboundPolicy, secretUseError } from "../src/workflows/actions/outbound-policy";

const DECLARED = JSON.stringify({ PARTNER_TOKEN: ["https://partner.example.com"], OKTA_API_TOKEN: "okta" });
const policy = (extra: Record<string, string> = {}) =>
  outboundPolicy({ WORKFLOW_SECRETS: DECLARED, OKTA_ORG_URL: "https://acme.okta.com", ...extra });
const url = (text: string) => new URL(text);

describe("secretUseError", () => {
  it("allows a declared secret to its declared origin over https", () => {
    expect(secretUseError(policy(), "PARTNER_TOKEN", "http", url("https://partner.example.com/x"))).toBeNull();
  });

  it("refuses another origin, another port and plain http", () => {
    expect(secretUseError(policy(), "PARTNER_TOKEN", "http", url("https://other.example.com/x"))).toContain(
      "may be sent only to https://partner.example.com",
    );
    expect(secretUseError(policy(), "PARTNER_TOKEN", "http", url("https://partner.example.com:8443/x"))).not.toBeNull();
    expect(secretUseError(policy(), "PARTNER_TOKEN", "http", url("http://partner.example.com/x"))).toContain("https");
  });

  it("allows loopback http only when LOCAL_DEV is 1", () => {
    const local = url("http://127.0.0.1:8799/hook");
    expect(secretUseError(policy(), "PARTNER_TOKEN", "http", local)).not.toBeNull();
    expect(secretUseError(policy({ LOCAL_DEV: "1" }), "PARTNER_TOKEN", "http", local)).toBeNull();
    expect(secretUseError(policy({ LOCAL_DEV: "1" }), "PARTNER_TOKEN", "http", url("http://localhost/x"))).toBeNull();
    // Local development relaxes loopback only, never plain http elsewhere.
    expect(
      secretUseError(policy({ LOCAL_DEV: "1" }), "PARTNER_TOKEN", "http", url("http://partner.example.com/x")),
    ).not.toBeNull();
  });

  it("keeps the Okta token to okta actions and the org", () => {
    expect(secretUseError(policy(), "OKTA_API_TOKEN", "okta", url("https://acme.okta.com/api/v1/x"))).toBeNull();
    expect(secretUseError(policy(), "OKTA_API_TOKEN", "okta", url("https://evil.okta.com/api/v1/x"))).not.toBeNull();
    expect(secretUseError(policy(), "OKTA_API_TOKEN", "http", url("https://acme.okta.com/api/v1/x"))).toContain(
      "only okta actions",
    );
    expect(secretUseError(policy(), "PARTNER_TOKEN", "okta", null)).toContain("not declared as an Okta API token");
  });

  it("never grants the service's own secrets, even when declared", () => {
    const declared = outboundPolicy({
      WORKFLOW_SECRETS: JSON.stringify({ ADMIN_TOKEN: ["https://partner.example.com"] }),
    });
    expect(secretUseError(declared, "ADMIN_TOKEN", "http", url("https://partner.example.com"))).toContain(
      "service's own secret",
    );
  });

  it("fails closed on a malformed declaration, naming it", () => {
    const broken = outboundPolicy({ WORKFLOW_SECRETS: "{not json" });
    expect(secretUseError(broken, "PARTNER_TOKEN", "http", null)).toContain("WORKFLOW_SECRETS is not valid JSON");
    const badOrigin = outboundPolicy({ WORKFLOW_SECRETS: JSON.stringify({ X_TOKEN: ["https://a.example/path"] }) });
    expect(secretUseError(badOrigin, "X_TOKEN", "http", null)).toContain("WORKFLOW_SECRETS.X_TOKEN");
  });
});
