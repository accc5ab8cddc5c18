/** The example workflows in examples/workflows are valid definitions, triggered by the events they are about. */
import { describe, expect, it } from "vitest";
import accessRequestSla from "../examples/workflows/access-request-sla.json";
import apiTokenHygiene from "../examples/workflows/api-token-hygiene.json";
import authenticatorChangeAlert from "../examples/workflows/authenticator-change-alert.json";
import importWatchdog from "../examples/workflows/import-watchdog.json";
import rateLimitEscalation from "../examples/workflows/rate-limit-escalation.json";
import { envNames } from "../src/workflows/actions/spec";
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
];

describe.each(examples)("examples/workflows/$file", ({ json, eventTypes, env }) => {
  const result = parseDefinition(json);

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
