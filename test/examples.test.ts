/** The example workflows in examples/workflows are valid definitions, triggered by the events they are about. */
import { describe, expect, it } from "vitest";
import accessRequestSla from "../examples/workflows/access-request-sla.json";
import apiTokenHygiene from "../examples/workflows/api-token-hygiene.json";
import authenticatorChangeAlert from "../examples/workflows/authenticator-change-alert.json";
import importWatchdog from "../examples/workflows/import-watchdog.json";
import rateLimitEscalation from "../examples/workflows/rate-limit-escalation.json";
import smsTollFraud from "../examples/workflows/sms-toll-fraud.json";
import { envNames } from "../src/workflows/actions/spec";
import { CATCHER_PLACEHOLDER, withCatcherUrl } from "../src/workflows/catcher-url";
import { parseDefinition } from "../src/workflows/validate";

const examples = [
  {
    file: "import-watchdog.json",
    json: importWatchdog,
    eventTypes: ["system.import.start"],
    env: ["SLACK_WEBHOOK_URL"],
  },
  {
    file: "api-token-hygiene.json",
    json: apiTokenHygiene,
    eventTypes: ["system.api_token.create"],
    env: ["OKTA_API_TOKEN", "OKTA_ORG_URL", "SLACK_WEBHOOK_URL"],
  },
  {
    file: "access-request-sla.json",
    json: accessRequestSla,
    eventTypes: ["access.request.create"],
    env: ["SLACK_WEBHOOK_URL"],
  },
  {
    file: "rate-limit-escalation.json",
    json: rateLimitEscalation,
    eventTypes: ["system.org.rate_limit.warning"],
    env: ["PAGER_TOKEN"],
  },
  {
    file: "authenticator-change-alert.json",
    json: authenticatorChangeAlert,
    eventTypes: ["security.authenticator.lifecycle.activate", "security.authenticator.lifecycle.deactivate"],
    env: ["SLACK_WEBHOOK_URL"],
  },
  {
    file: "sms-toll-fraud.json",
    json: smsTollFraud,
    eventTypes: ["system.sms.send_phone_verification_message"],
    env: ["SLACK_WEBHOOK_URL"],
  },
];

describe.each(examples)("examples/workflows/$file", ({ json, eventTypes, env }) => {
  // Loaded as the dashboard and workflows:load load it: the catcher placeholder filled in.
  const result = parseDefinition(withCatcherUrl(json, undefined));

  it("is a valid workflow definition", () => {
    expect(result).toMatchObject({ ok: true });
  });

  it("is triggered by the right event types", () => {
    if (!result.ok) throw new Error(result.error);
    expect(result.definition.trigger.eventTypes).toEqual(eventTypes);
  });

  it("needs exactly the secrets and vars docs/workflows.md lists for it", () => {
    if (!result.ok) throw new Error(result.error);
    const needed = new Set(
      Object.values(result.definition.nodes).flatMap((node) => (node.kind === "action" ? envNames(node.action) : [])),
    );
    expect([...needed].sort()).toEqual(env);
  });
});

describe("the examples follow the configured catcher (npm run catcher)", () => {
  const strings = (value: unknown): string[] =>
    typeof value === "string"
      ? [value]
      : value && typeof value === "object"
        ? Object.values(value).flatMap(strings)
        : [];

  it("name no literal catcher port: a URL to the local receiver starts with the placeholder", () => {
    for (const { file, json } of examples) {
      const urls = strings(json).filter((s) => s.includes("127.0.0.1") || s.includes("localhost"));
      expect(urls, file).toEqual([]);
    }
    expect(strings(rateLimitEscalation)).toContain(`${CATCHER_PLACEHOLDER}/pager`);
  });

  it("a moved catcher moves the rate-limit example's pager URL, and it stays a valid definition", () => {
    const moved = parseDefinition(withCatcherUrl(rateLimitEscalation, "http://127.0.0.1:9911/"));
    if (!moved.ok) throw new Error(moved.error);
    const page = moved.definition.nodes.page;
    expect(page?.kind === "action" && page.action.type === "http" ? page.action.url : null).toBe(
      "http://127.0.0.1:9911/pager",
    );
  });

  it("without a configured catcher the default port 8788 is used", () => {
    expect(strings(withCatcherUrl(rateLimitEscalation, undefined))).toContain("http://127.0.0.1:8788/pager");
  });
});

describe("examples/workflows/access-request-sla.json cancels on resolve", () => {
  it("ends its run when the request is resolved (cancelOn), on the request itself", () => {
    const result = parseDefinition(accessRequestSla);
    if (!result.ok) throw new Error(result.error);
    expect(result.definition.cancelOn).toEqual({ eventTypes: ["access.request.resolve"], asset: "trigger" });
  });
});
