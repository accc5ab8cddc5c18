/**
 * Local development: with LOCAL_DEV="1" (set by .dev.vars.example), Slack and http
 * actions may call a receiver on this machine over plain http (`npm run catcher`), with
 * a declared secret; without it, a secret never goes over plain http and nothing is sent.
 */
import { describe, expect, it } from "vitest";
import { type ActionContext, executeAction } from "../src/workflows/actions/execute";
import { HttpAction, SlackAction } from "../src/workflows/actions/spec";
import { eventFields } from "./event-fields";

const DECLARED = {
  WORKFLOW_SECRETS: JSON.stringify({
    SLACK_WEBHOOK_URL: ["https://hooks.slack.com"],
    PAGER_TOKEN: ["https://pager.example.com"],
  }),
  SLACK_WEBHOOK_URL: "http://127.0.0.1:8788/slack",
  PAGER_TOKEN: "local-pager-token",
};
const LOCAL = { ...DECLARED, LOCAL_DEV: "1" };

/** An action context whose fetch records the URLs and answers as a Slack incoming webhook does. */
function context(env: object): { ctx: ActionContext; sent: string[] } {
  const sent: string[] = [];
  const trigger = eventFields();
  const ctx: ActionContext = {
    scope: { trigger, event: trigger, nodes: {}, run: { id: "run-1", workflowId: "wf-1" } },
    env,
    idempotencyKey: "run-1:node-1",
    fetch: async (input) => {
      sent.push(String(input));
      return new Response("ok", { headers: { "content-type": "text/html" } });
    },
    sleep: async () => {},
  };
  return { ctx, sent };
}

const slack = SlackAction.parse({ type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "hi" });
const pager = (url: string) =>
  HttpAction.parse({
    type: "http",
    method: "POST",
    url,
    headers: { Authorization: { secret: "PAGER_TOKEN", prefix: "Bearer " } },
    body: { id: "{{ trigger.id }}" },
  });

describe("slack action to a loopback receiver", () => {
  it("posts over http to 127.0.0.1 in local development", async () => {
    const { ctx, sent } = context(LOCAL);
    const outcome = await executeAction(slack, ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { status: 200, body: "ok" } });
    expect(sent).toEqual(["http://127.0.0.1:8788/slack"]);
  });

  it("refuses http to 127.0.0.1 outside local development, sending nothing", async () => {
    const { ctx, sent } = context(DECLARED);
    const outcome = await executeAction(slack, ctx);
    expect(outcome).toMatchObject({
      status: "failed",
      retryable: false,
      error: expect.stringContaining("webhook.secret"),
    });
    expect(sent).toEqual([]);
  });
});

describe("http action with a secret header to a loopback receiver", () => {
  it("posts over http to 127.0.0.1 in local development", async () => {
    const { ctx, sent } = context(LOCAL);
    const outcome = await executeAction(pager("http://127.0.0.1:8788/pager"), ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { status: 200, body: "ok" } });
    expect(sent).toEqual(["http://127.0.0.1:8788/pager"]);
  });

  it("refuses plain http to any other host, even in local development", async () => {
    const { ctx, sent } = context(LOCAL);
    const outcome = await executeAction(pager("http://pager.example.com/alerts"), ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(sent).toEqual([]);
  });
});
