/**
 * Local development: with ALLOW_LOOPBACK_HTTP="true" (set by .dev.vars.example), Slack
 * and http actions may call a receiver on 127.0.0.1 over plain http (`npm run catcher`);
 * without it, and for any other host, plain http is refused before anything is sent.
 */
import { describe, expect, it } from "vitest";
import { type ActionContext, executeAction } from "../src/workflows/actions/execute";
import { isLoopbackAllowed } from "../src/workflows/actions/loopback";
import { HttpAction, SlackAction } from "../src/workflows/actions/spec";
import { eventFields } from "./event-fields";

const LOCAL = { ALLOW_LOOPBACK_HTTP: "true" };

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
const http = (url: string) => HttpAction.parse({ type: "http", method: "POST", url, body: { id: "{{ trigger.id }}" } });

describe("isLoopbackAllowed", () => {
  it.each([
    ["http://127.0.0.1:8788/slack", true],
    ["http://127.1.2.3/x", true],
    ["http://localhost:8788/", true],
    ["http://[::1]:8788/", true],
    ["https://127.0.0.1/", false],
    ["http://10.0.0.1/", false],
    ["http://127.0.0.1.example.com/", false],
    ["http://hooks.slack.com/services/x", false],
  ])("%s in local development: %s", (url, expected) => {
    expect(isLoopbackAllowed(new URL(url), LOCAL)).toBe(expected);
  });

  it('is off unless ALLOW_LOOPBACK_HTTP is exactly "true"', () => {
    const url = new URL("http://127.0.0.1:8788/");
    expect(isLoopbackAllowed(url, {})).toBe(false);
    expect(isLoopbackAllowed(url, { ALLOW_LOOPBACK_HTTP: "1" })).toBe(false);
  });
});

describe("slack action to a loopback receiver", () => {
  it("posts over http to 127.0.0.1 in local development", async () => {
    const { ctx, sent } = context({ ...LOCAL, SLACK_WEBHOOK_URL: "http://127.0.0.1:8788/slack" });
    const outcome = await executeAction(slack, ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { status: 200, body: "ok" } });
    expect(sent).toEqual(["http://127.0.0.1:8788/slack"]);
  });

  it("refuses http to 127.0.0.1 outside local development, sending nothing", async () => {
    const { ctx, sent } = context({ SLACK_WEBHOOK_URL: "http://127.0.0.1:8788/slack" });
    const outcome = await executeAction(slack, ctx);
    expect(outcome).toEqual({
      status: "failed",
      error: "webhook: secret SLACK_WEBHOOK_URL does not hold an https URL",
      retryable: false,
    });
    expect(sent).toEqual([]);
  });
});

describe("http action to a loopback receiver", () => {
  it("posts over http to 127.0.0.1 in local development", async () => {
    const { ctx, sent } = context(LOCAL);
    const outcome = await executeAction(http("http://127.0.0.1:8788/pager"), ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { status: 200, body: "ok" } });
    expect(sent).toEqual(["http://127.0.0.1:8788/pager"]);
  });

  it("refuses plain http to any other host, even in local development", async () => {
    const { ctx, sent } = context(LOCAL);
    const outcome = await executeAction(http("http://pager.example.com/alerts"), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error:
        'url: "http://pager.example.com/alerts" is not an https URL (plain http only reaches a local receiver, in local development)',
      retryable: false,
    });
    expect(sent).toEqual([]);
  });
});
