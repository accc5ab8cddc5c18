/** The example workflows (examples/workflows/*.json), bundled into the Worker so "create from an example" needs no files at run time. */
import accessRequestSla from "../../examples/workflows/access-request-sla.json";
import apiTokenHygiene from "../../examples/workflows/api-token-hygiene.json";
import authenticatorChangeAlert from "../../examples/workflows/authenticator-change-alert.json";
import importWatchdog from "../../examples/workflows/import-watchdog.json";
import rateLimitEscalation from "../../examples/workflows/rate-limit-escalation.json";
import smsTollFraud from "../../examples/workflows/sms-toll-fraud.json";

export interface Example {
  slug: string;
  name: string;
  description: string;
  definition: unknown;
}

const example = (slug: string, definition: { name: string; description?: string }): Example => ({
  slug,
  name: definition.name,
  description: definition.description ?? "",
  definition,
});

export const EXAMPLES: readonly Example[] = [
  example("import-watchdog", importWatchdog),
  example("api-token-hygiene", apiTokenHygiene),
  example("access-request-sla", accessRequestSla),
  example("rate-limit-escalation", rateLimitEscalation),
  example("authenticator-change-alert", authenticatorChangeAlert),
  example("sms-toll-fraud", smsTollFraud),
];

/** What "from scratch" starts with: the smallest definition that saves, to be filled in. */
export const BLANK_DEFINITION = {
  name: "New workflow",
  description: "",
  trigger: { eventTypes: ["system.api_token.create"] },
  start: "notify",
  nodes: {
    notify: {
      kind: "action",
      name: "Tell Slack",
      action: {
        type: "slack",
        webhook: { secret: "SLACK_WEBHOOK_URL" },
        text: "{{ trigger.displayName }}: {{ trigger.eventType }}",
      },
      next: null,
    },
  },
};
