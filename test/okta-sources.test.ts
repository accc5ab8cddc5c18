/**
 * OKTA_SOURCES as pure data: which secrets open which hook path, what a malformed
 * declaration refuses, and that the hook secrets it names stay out of workflows' reach.
 */
import { describe, expect, it } from "vitest";
import { hookAuth, readOktaSources } from "../src/okta/sources";
import { outboundPolicy, secretUseError } from "../src/workflows/actions/outbound-policy";

const SOURCES = JSON.stringify({
  acme: { secret: "ACME_SECRET", previousSecret: "ACME_OLD", authHeader: "X-Acme" },
  globex: { secret: "GLOBEX_SECRET" },
});
const ENV = {
  OKTA_SOURCES: SOURCES,
  ACME_SECRET: "a1",
  ACME_OLD: "a0",
  GLOBEX_SECRET: "g1",
  OKTA_HOOK_SECRET: "s1",
  OKTA_HOOK_SECRET_PREVIOUS: "",
  OKTA_AUTH_HEADER: "X-Single",
};

describe("hookAuth", () => {
  it("gives the single-org hook its own secrets and header, the previous one unset", () => {
    expect(hookAuth(ENV, null)).toEqual({
      kind: "ok",
      auth: { source: null, headerName: "X-Single", secrets: ["s1", undefined], missingSecret: null },
    });
  });

  it("gives a named source the secrets it names, and Authorization unless it says otherwise", () => {
    expect(hookAuth(ENV, "acme")).toEqual({
      kind: "ok",
      auth: { source: "acme", headerName: "X-Acme", secrets: ["a1", "a0"], missingSecret: null },
    });
    expect(hookAuth(ENV, "globex")).toEqual({
      kind: "ok",
      auth: { source: "globex", headerName: "Authorization", secrets: ["g1"], missingSecret: null },
    });
  });

  it("names a current secret the Worker does not have, but not an unset previous one", () => {
    const auth = hookAuth({ ...ENV, ACME_SECRET: "", ACME_OLD: undefined }, "acme");
    expect(auth).toMatchObject({ kind: "ok", auth: { secrets: [undefined, undefined], missingSecret: "ACME_SECRET" } });
  });

  it("knows no source that is undeclared or not a valid name, and none when nothing is declared", () => {
    expect(hookAuth(ENV, "initech")).toEqual({ kind: "unknown" });
    expect(hookAuth(ENV, "Acme")).toEqual({ kind: "unknown" });
    expect(hookAuth({ ...ENV, OKTA_SOURCES: undefined }, "acme")).toEqual({ kind: "unknown" });
    expect(hookAuth({ ...ENV, OKTA_SOURCES: " " }, "acme")).toEqual({ kind: "unknown" });
  });
});

describe("readOktaSources", () => {
  it("accepts a wrangler.toml table as well as a JSON string", () => {
    const config = readOktaSources({ OKTA_SOURCES: { acme: { secret: "ACME_SECRET" } } });
    expect(config.sources?.get("acme")).toEqual({ secret: "ACME_SECRET" });
  });

  it.each([
    ["{", "OKTA_SOURCES is not valid JSON"],
    ['{"acme": {"secret": "a1-the-value"}}', "OKTA_SOURCES.acme.secret: the name of a Worker secret"],
    ['{"acme": {"secret": "ADMIN_TOKEN"}}', "OKTA_SOURCES.acme.secret: ADMIN_TOKEN cannot be a hook secret"],
    ['{"acme": {"secret": "A", "authHeader": "X Bad"}}', "OKTA_SOURCES.acme.authHeader: an HTTP header name"],
    ['{"acme": {"secret": "A", "secrets": ["B"]}}', "OKTA_SOURCES.acme"],
    ['{"acme_corp": {"secret": "A"}}', "OKTA_SOURCES.acme_corp: a source name"],
    ['["acme"]', "OKTA_SOURCES"],
  ])("refuses %s and says where", (raw, reason) => {
    const config = readOktaSources({ OKTA_SOURCES: raw });
    expect(config.sources).toBeNull();
    expect(config.error).toContain(reason);
    expect(hookAuth({ ...ENV, OKTA_SOURCES: raw }, "acme")).toEqual({ kind: "misconfigured", error: config.error });
  });
});

describe("hook secrets and workflows", () => {
  const declared = JSON.stringify({ ACME_SECRET: ["https://example.com"], PARTNER: ["https://example.com"] });
  const url = new URL("https://example.com/x");

  it("never lets a workflow read a named source's secrets, even when declared", () => {
    const policy = outboundPolicy({ ...ENV, WORKFLOW_SECRETS: declared });
    expect(secretUseError(policy, "ACME_SECRET", "http", url)).toContain("the service's own secret");
    expect(secretUseError(policy, "ACME_OLD", "http", url)).toContain("the service's own secret");
    expect(secretUseError(policy, "PARTNER", "http", url)).toBeNull();
  });

  it("refuses every secret when OKTA_SOURCES is malformed: no one can tell which are hook secrets", () => {
    const policy = outboundPolicy({ ...ENV, OKTA_SOURCES: "{", WORKFLOW_SECRETS: declared });
    expect(secretUseError(policy, "PARTNER", "http", url)).toContain("OKTA_SOURCES is invalid");
  });
});
