/**
 * `npm run okta:hook` against the Okta stand-in, whose verify really calls our hook's
 * GET challenge on the real local service (`wrangler dev`). The service starts in the
 * middle of a rotation: it accepts "new-secret" and, as the previous one, "old-secret".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { oktaEvent } from "../../tools/local-okta/builders";
import { runHookCommand } from "../../tools/okta-hook/command";
import { type RunningStandin, startStandin } from "../../tools/okta-standin/server";
import { type LocalService, startLocalService } from "../browser/local-service";
import { capture, storedUuids } from "./support";

let standin: RunningStandin;
let service: LocalService;
const ALL = SYSTEM_CATEGORY_EVENT_TYPES.map((type) => type.eventType);

const env = (overrides: Record<string, string> = {}) => ({
  OKTA_ORG_URL: standin.url,
  OKTA_API_TOKEN: "standin-token",
  OKTA_HOOK_URL: `${service.url}/hooks/okta`,
  OKTA_HOOK_SECRET: "old-secret",
  ...overrides,
});
const hook = (args: string[], overrides: Record<string, string> = {}) =>
  capture((out) => runHookCommand(args, env(overrides), out));
const only = () => {
  expect(standin.org.hooks.size).toBe(1);
  const [stored] = standin.org.hooks.values();
  if (!stored) throw new Error("no hook");
  return stored;
};

beforeAll(async () => {
  [standin, service] = await Promise.all([
    startStandin({ apiToken: "standin-token" }),
    startLocalService({ current: "new-secret", previous: "old-secret" }),
  ]);
});
afterAll(async () => {
  await standin?.close();
  await service?.stop();
});

describe("the Okta stand-in answers as Okta documents", () => {
  it("refuses a request without the SSWS token with Okta's error body", async () => {
    const res = await fetch(`${standin.url}/api/v1/eventHooks`, { headers: { Authorization: "Bearer x" } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      errorCode: "E0000011",
      errorSummary: "Invalid token provided",
      errorLink: "E0000011",
      errorId: expect.any(String),
      errorCauses: [],
    });
  });

  it("answers an unknown hook with 404 E0000007 and reports its rate limit on every response", async () => {
    const res = await fetch(`${standin.url}/api/v1/eventHooks/whoNOPE`, {
      headers: { Authorization: "SSWS standin-token" },
    });
    expect(res.status).toBe(404);
    expect((await res.json()).errorCode).toBe("E0000007");
    expect(res.headers.get("x-rate-limit-limit")).toBe("100");
    expect(Number(res.headers.get("x-rate-limit-remaining"))).toBeLessThan(100);
    expect(Number(res.headers.get("x-rate-limit-reset"))).toBeGreaterThan(Date.now() / 1000);
  });

  it("refuses a hook with a plain-http URI that is not loopback, naming the field", async () => {
    const res = await fetch(`${standin.url}/api/v1/eventHooks`, {
      method: "POST",
      headers: { Authorization: "SSWS standin-token", "Content-Type": "application/json" },
      body: JSON.stringify({
        name: "x",
        events: { type: "EVENT_TYPE", items: ["system.import.start"] },
        channel: { type: "HTTP", version: "1.0.0", config: { uri: "http://example.com/hook" } },
      }),
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errorCode).toBe("E0000001");
    expect(body.errorCauses[0].errorSummary).toMatch(/^channel\.config\.uri: must be https/);
    expect(standin.org.hooks.size).toBe(0);
  });
});

describe("npm run okta:hook", () => {
  it("register --dry-run says what it would create and creates nothing", async () => {
    const { code, output } = await hook(["register", "--dry-run"]);
    expect(code).toBe(0);
    expect(output).toContain('create hook "okta-event-workflows"');
    expect(output).toContain("events: 13 types");
    expect(standin.org.hooks.size).toBe(0);
  });

  it("register creates the hook with the 13 types, activates it, and Okta verifies it against the real hook", async () => {
    const { code, output } = await hook(["register"]);
    expect(output).toMatch(/verified who\w+: VERIFIED/);
    expect(code).toBe(0);
    const stored = only();
    expect(stored).toMatchObject({
      status: "ACTIVE",
      verificationStatus: "VERIFIED",
      uri: `${service.url}/hooks/okta`,
      auth: { key: "Authorization", value: "old-secret" },
    });
    expect(stored.events.items).toEqual(ALL);
  });

  it("list shows the org's hooks with ours marked, and never the secret", async () => {
    const { code, output } = await hook(["list"]);
    expect(code).toBe(0);
    expect(output).toMatch(/^\* who\w+ {2}ACTIVE {3}VERIFIED {3}13 types {2}okta-event-workflows/);
    expect(output).not.toContain("old-secret");
  });

  it("Okta's deliveries to the registered hook are stored by the service", async () => {
    const event = oktaEvent({ eventType: "system.api_token.create" });
    const res = await fetch(`${standin.url}/standin/logs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([event]),
    });
    expect((await res.json()).deliveries).toEqual([{ hookId: only().id, status: 200 }]);
    expect(await storedUuids(service.url)).toContain(event.uuid);
  });

  it("register again with a subset of types updates the same hook and says what changed", async () => {
    const id = only().id;
    const { code, output } = await hook(["register", "--types", "system.import.start,system.import.complete"]);
    expect(code).toBe(0);
    expect(output).toContain(`update hook "okta-event-workflows" (${id})`);
    expect(output).toContain("- event system.api_token.create");
    expect(only()).toMatchObject({ id, verificationStatus: "VERIFIED" });
    expect(only().events.items).toEqual(["system.import.start", "system.import.complete"]);
  });

  it("refuses a type outside the System Category before calling Okta", async () => {
    const before = standin.org.requests.length;
    const { code, output } = await hook(["register", "--types", "user.session.start"]);
    expect(code).toBe(2);
    expect(output).toContain("not System Category event types: user.session.start");
    expect(standin.org.requests.length).toBe(before);
  });

  it("verify fails, with Okta's error, when Okta holds a secret the hook refuses", async () => {
    const { code } = await hook(["register", "--no-verify"], { OKTA_HOOK_SECRET: "not-a-secret-we-accept" });
    expect(code).toBe(0);
    expect(only().verificationStatus).toBe("UNVERIFIED");
    const verified = await hook(["verify"]);
    expect(verified.code).toBe(1);
    expect(verified.output).toContain("E0000001: Api validation failed: eventHook");
    expect(verified.output).toContain("execution failed: answered 401");
    expect(only().verificationStatus).toBe("UNVERIFIED");
    expect((await hook(["register"])).code).toBe(0);
    expect(only().verificationStatus).toBe("VERIFIED");
  });

  it("deactivate turns ours off, and says so when it already is", async () => {
    const first = await hook(["deactivate"]);
    expect(first.code).toBe(0);
    expect(first.output).toContain("deactivated");
    expect(only().status).toBe("INACTIVE");
    const again = await hook(["deactivate"]);
    expect(again.output).toContain("already inactive");
    expect((await hook(["register"])).code).toBe(0);
    expect(only().status).toBe("ACTIVE");
  });

  describe("rotate", () => {
    it("begin prints a new secret and the commands for both secrets, and changes nothing in Okta", async () => {
      const before = standin.org.requests.length;
      const { code, output } = await hook(["rotate", "begin"]);
      expect(code).toBe(0);
      expect(output).toMatch(/New secret: [\w-]{43}/);
      expect(output).toContain("npx wrangler secret put OKTA_HOOK_SECRET_PREVIOUS");
      expect(output).toContain('OKTA_HOOK_SECRET_PREVIOUS="<the current secret>"');
      expect(standin.org.requests.length).toBe(before);
    });

    it("switch refuses while the Worker does not accept the new secret, and leaves Okta alone", async () => {
      const { code, output } = await hook(["rotate", "switch"], {
        OKTA_HOOK_SECRET: "some-other-secret",
        OKTA_HOOK_SECRET_PREVIOUS: "old-secret",
      });
      expect(code).toBe(1);
      expect(output).toContain("does not accept the new secret yet (answered 401)");
      expect(only().auth?.value).toBe("old-secret");
    });

    it("switch moves Okta to the new secret, which Okta verifies, and tells the operator step 3", async () => {
      const { code, output } = await hook(["rotate", "switch"], {
        OKTA_HOOK_SECRET: "new-secret",
        OKTA_HOOK_SECRET_PREVIOUS: "old-secret",
      });
      expect(code).toBe(0);
      expect(output).toContain("npx wrangler secret delete OKTA_HOOK_SECRET_PREVIOUS");
      expect(only()).toMatchObject({ auth: { value: "new-secret" }, verificationStatus: "VERIFIED" });
    });

    it("finish says the old secret is still accepted until the Worker drops it, then confirms", async () => {
      const still = await hook(["rotate", "finish"], {
        OKTA_HOOK_SECRET: "new-secret",
        OKTA_HOOK_SECRET_PREVIOUS: "old-secret",
      });
      expect(still.code).toBe(1);
      expect(still.output).toContain("still accepts the old secret");
      // The operator drops the previous secret and restarts the Worker.
      await service.stop();
      service = await startLocalService({ current: "new-secret", previous: "" });
      const done = await hook(["rotate", "finish"], {
        OKTA_HOOK_SECRET: "new-secret",
        OKTA_HOOK_SECRET_PREVIOUS: "old-secret",
      });
      expect(done.output).toContain("rotation is complete");
      expect(done.code).toBe(0);
    });
  });
});
