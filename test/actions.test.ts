import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventFields } from "../src/okta/event-fields";
import { type ActionContext, type ActionOutcome, executeAction } from "../src/workflows/actions/execute";
import { Action, envNames, HttpAction, OktaAction, SlackAction, secretNames } from "../src/workflows/actions/spec";
import type { TemplateScope } from "../src/workflows/template";
import { eventFields } from "./event-fields";

const TOKEN = "sk_live_partner_0123456789";
const OKTA_TOKEN = "00okta-api-token-abcdefghijklmnop";
const SLACK_URL = "https://hooks.slack.com/services/T0001/B0002/xyzSecretPart123";
const ENV = {
  PARTNER_TOKEN: TOKEN,
  OKTA_API_TOKEN: OKTA_TOKEN,
  OKTA_ORG_URL: "https://acme.okta.com",
  SLACK_WEBHOOK_URL: SLACK_URL,
  // The operator's declaration: which secrets actions may read, and where each may go.
  WORKFLOW_SECRETS: JSON.stringify({
    PARTNER_TOKEN: ["https://partner.example.com"],
    OKTA_API_TOKEN: "okta",
    OKTA_ADMIN: "okta",
    SLACK_WEBHOOK_URL: ["https://hooks.slack.com"],
  }),
};

function scope(trigger: EventFields = eventFields()): TemplateScope {
  return {
    trigger,
    event: trigger,
    nodes: { check: { output: { status: 200 } } },
    run: { id: "run-1", workflowId: "wf-1" },
  };
}

type Sent = { url: string; method: string; headers: Record<string, string>; body: string | null; redirect?: string };
type Reply = Response | Error | ((init: RequestInit | undefined) => Promise<Response>);

/** A fake fetch answering from a script, recording what was sent, and a sleep that records instead of waiting. */
function harness(replies: Reply[], env: object = ENV, runId = "run-1") {
  const sent: Sent[] = [];
  const delays: number[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    sent.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers)),
      body: typeof init?.body === "string" ? init.body : null,
      redirect: init?.redirect,
    });
    const reply = replies.shift();
    if (reply === undefined) throw new Error("unexpected extra request");
    if (reply instanceof Error) throw reply;
    if (typeof reply === "function") return reply(init);
    return reply;
  };
  const ctx: ActionContext = {
    scope: scope(),
    env,
    idempotencyKey: `${runId}:node-1`,
    fetch: fakeFetch,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
  return { ctx, sent, delays };
}

const json = (body: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(body), { ...init, headers: { "content-type": "application/json", ...init.headers } });

function expectNoSecrets(outcome: ActionOutcome): void {
  const text = JSON.stringify(outcome);
  for (const secret of [TOKEN, OKTA_TOKEN, SLACK_URL, "xyzSecretPart123"]) expect(text).not.toContain(secret);
}

const httpAction = (overrides: Record<string, unknown> = {}) =>
  HttpAction.parse({
    type: "http",
    method: "POST",
    url: "https://partner.example.com/hooks/{{ trigger.id }}?run={{ run.id }}",
    headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " }, "X-Asset": "{{ trigger.displayName }}" },
    body: {
      token: "{{ trigger.id }}",
      status: "{{ nodes.check.output.status }}",
      note: "for {{ trigger.displayName }}",
    },
    ...overrides,
  });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("http action", () => {
  it("sends the rendered request with the secret header and Idempotency-Key", async () => {
    const { ctx, sent, delays } = harness([json({ accepted: true }, { status: 202 })]);
    const outcome = await executeAction(httpAction(), ctx);

    expect(sent).toEqual([
      {
        url: "https://partner.example.com/hooks/00Tabc123?run=run-1",
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "x-asset": "ci-token",
          "idempotency-key": "run-1:node-1",
          "x-okta-event-workflows-run": "run-1:node-1",
          "content-type": "application/json",
        },
        body: JSON.stringify({ token: "00Tabc123", status: 200, note: "for ci-token" }),
        redirect: "manual",
      },
    ]);
    expect(outcome).toEqual({
      status: "succeeded",
      output: {
        status: 202,
        body: '{"accepted":true}',
        truncated: false,
        json: { accepted: true },
        attempts: 1,
        method: "POST",
        url: "https://partner.example.com/hooks/00Tabc123?run=run-1",
      },
    });
    expect(delays).toEqual([]);
    expectNoSecrets(outcome);
  });

  it("goes through globalThis.fetch when the context has none", async () => {
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
    const { ctx } = harness([]);
    const outcome = await executeAction(httpAction({ method: "GET", body: undefined }), { ...ctx, fetch: undefined });
    expect(outcome.status).toBe("succeeded");
    expect(spy).toHaveBeenCalledOnce();
    expect(String(spy.mock.calls[0]?.[0])).toBe("https://partner.example.com/hooks/00Tabc123?run=run-1");
  });

  it("scrubs a secret the receiver echoes back", async () => {
    const { ctx } = harness([json({ headers: { authorization: `Bearer ${TOKEN}` } })]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome.status === "succeeded" && outcome.output.body).toBe(
      '{"headers":{"authorization":"Bearer [redacted]"}}',
    );
    expectNoSecrets(outcome);
  });

  it("bounds the body excerpt and says it is truncated", async () => {
    const { ctx } = harness([new Response("x".repeat(20_000))]);
    const outcome = await executeAction(httpAction(), ctx);
    if (outcome.status !== "succeeded") throw new Error(`expected success: ${JSON.stringify(outcome)}`);
    expect(outcome.output.body).toHaveLength(2048);
    expect(outcome.output.truncated).toBe(true);
  });

  it("sends a string body as is when the definition sets a non-JSON Content-Type", async () => {
    const { ctx, sent } = harness([new Response("ok")]);
    const action = httpAction({ headers: { "Content-Type": "text/plain" }, body: "token {{ trigger.id }}" });
    await executeAction(action, ctx);
    expect(sent[0]?.body).toBe("token 00Tabc123");
    expect(sent[0]?.headers["content-type"]).toBe("text/plain");
  });

  it("fails permanently when a header renders a line break", async () => {
    const { ctx, sent } = harness([]);
    ctx.scope = scope(eventFields({ displayName: "evil\r\nX-Injected: 1" }));
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error: "headers.X-Asset: the value contains a line break",
      retryable: false,
    });
    expect(sent).toEqual([]);
  });

  it("fails permanently on a stored URL whose origin is a placeholder (saved before the rule)", async () => {
    const { ctx, sent } = harness([]);
    const outcome = await executeAction({ ...httpAction(), url: "{{ trigger.displayName }}" }, ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.status === "failed" && outcome.error).toMatch(/^url: must start with a literal https:\/\//);
    expect(sent).toEqual([]);
  });

  it("reports a template syntax error that slipped past validation, naming the field", async () => {
    const { ctx } = harness([]);
    const action: Action = { ...httpAction(), body: { a: "{{ trigger.id" } };
    const outcome = await executeAction(action, ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.status === "failed" && outcome.error).toMatch(/^body: unclosed "\{\{"/);
  });
});

describe("a JSON body is JSON-encoded, not markup-escaped", () => {
  it("carries an Event Field holding markup and quotes exactly as Okta sent it", async () => {
    const value = '<!channel> "quoted" & <b>bold</b>\n';
    const { ctx, sent } = harness([new Response("ok")]);
    ctx.scope = scope(eventFields({ displayName: value }));
    await executeAction(
      HttpAction.parse({
        type: "http",
        method: "POST",
        url: "https://partner.example.com/hook",
        body: { name: "{{ trigger.displayName }}", text: "token {{ trigger.displayName }}" },
      }),
      ctx,
    );
    expect(JSON.parse(sent[0]?.body ?? "")).toEqual({ name: value, text: `token ${value}` });
  });
});

describe("retries", () => {
  it("retries a 503 after a jittered backoff, then succeeds", async () => {
    const { ctx, sent, delays } = harness([new Response("busy", { status: 503 }), new Response("ok")]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { status: 200, attempts: 2 } });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.headers["idempotency-key"]).toBe("run-1:node-1");
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
  });

  it("honours a short Retry-After on 429", async () => {
    const { ctx, delays } = harness([
      new Response("slow down", { status: 429, headers: { "retry-after": "2" } }),
      json({}),
    ]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toMatchObject({ status: "succeeded", output: { attempts: 2 } });
    expect(delays).toEqual([2000]);
  });

  it("hands a long Retry-After back to the engine without waiting", async () => {
    const { ctx, sent, delays } = harness([
      new Response("later", { status: 429, statusText: "Too Many Requests", headers: { "retry-after": "120" } }),
    ]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error:
        "POST https://partner.example.com/hooks/00Tabc123 failed after 1 attempt: HTTP 429 Too Many Requests: later (server asks to wait 120 s)",
      retryable: true,
      retryAfterSeconds: 120,
    });
    expect(sent).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("reads Retry-After as an HTTP-date", async () => {
    const later = new Date(Date.now() + 3600_000).toUTCString();
    const { ctx } = harness([new Response(null, { status: 503, headers: { "retry-after": later } })]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome.status === "failed" && outcome.retryAfterSeconds).toBeGreaterThan(3500);
    expect(outcome).toMatchObject({ retryable: true });
  });

  it("returns a retryable failure when 5xx outlasts the retries", async () => {
    const busy = () => new Response("down", { status: 502, statusText: "Bad Gateway" });
    const { ctx, sent, delays } = harness([busy(), busy(), busy()]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error: "POST https://partner.example.com/hooks/00Tabc123 failed after 3 attempts: HTTP 502 Bad Gateway: down",
      retryable: true,
      retryAfterSeconds: 30,
    });
    expect(sent).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
  });

  it("retries a network error", async () => {
    const { ctx } = harness([new TypeError("Network connection lost."), new TypeError("Network connection lost.")]);
    const outcome = await executeAction(httpAction({ retries: 1 }), ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: true, retryAfterSeconds: 30 });
    expect(outcome.status === "failed" && outcome.error).toContain(
      "failed after 2 attempts: network error: Network connection lost.",
    );
  });

  it("aborts an attempt at timeoutMs and treats it as retryable", async () => {
    const hang = (init: RequestInit | undefined) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const { ctx } = harness([hang]);
    const outcome = await executeAction(httpAction({ timeoutMs: 20, retries: 0 }), ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.status === "failed" && outcome.error).toContain("timed out after 20 ms");
  });

  it("fails permanently on a 4xx, with the status and a body excerpt", async () => {
    const { ctx, sent } = harness([
      json({ error: "invalid token id" }, { status: 422, statusText: "Unprocessable Entity" }),
    ]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error:
        'POST https://partner.example.com/hooks/00Tabc123: HTTP 422 Unprocessable Entity: {"error":"invalid token id"}',
      retryable: false,
    });
    expect(sent).toHaveLength(1);
  });

  it("does not follow redirects", async () => {
    const { ctx } = harness([
      new Response(null, { status: 302, statusText: "Found", headers: { location: "https://elsewhere.example" } }),
    ]);
    const outcome = await executeAction(httpAction(), ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.status === "failed" && outcome.error).toContain("HTTP 302 Found: redirects are not followed");
  });
});

describe("slack action", () => {
  const slack = () =>
    SlackAction.parse({
      type: "slack",
      webhook: { secret: "SLACK_WEBHOOK_URL" },
      text: "Token {{ trigger.displayName }} created",
    });

  it("posts the rendered text to the webhook from the secret, and keeps the URL out of the output", async () => {
    const { ctx, sent } = harness([new Response("ok")]);
    const outcome = await executeAction(slack(), ctx);
    expect(sent).toEqual([
      {
        url: SLACK_URL,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "Token ci-token created" }),
        redirect: "manual",
      },
    ]);
    expect(outcome).toEqual({
      status: "succeeded",
      output: { status: 200, body: "ok", truncated: false, attempts: 1 },
    });
    expectNoSecrets(outcome);
  });

  it("redacts the webhook URL from a network error", async () => {
    const { ctx } = harness([
      new TypeError(`fetch failed for ${SLACK_URL}`),
      new TypeError("connect to /services/T0001/B0002/xyzSecretPart123"),
    ]);
    const outcome = await executeAction(SlackAction.parse({ ...slack(), retries: 1 }), ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.status === "failed" && outcome.error).toBe(
      "Slack webhook (SLACK_WEBHOOK_URL) failed after 2 attempts: network error: connect to [redacted]",
    );
    expectNoSecrets(outcome);
  });

  it("fails permanently on a missing secret, naming it", async () => {
    const { ctx, sent } = harness([], {
      OKTA_ORG_URL: "https://acme.okta.com",
      WORKFLOW_SECRETS: ENV.WORKFLOW_SECRETS,
    });
    const outcome = await executeAction(slack(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error:
        "webhook.secret: secret SLACK_WEBHOOK_URL is not set; add it with `wrangler secret put SLACK_WEBHOOK_URL` (locally: add SLACK_WEBHOOK_URL to .dev.vars and restart npm run dev)",
      retryable: false,
    });
    expect(sent).toEqual([]);
  });

  describe("escapes every inserted value for mrkdwn, never the template's own markup", () => {
    const HOSTILE = "<!channel> <@U123> <https://evil.example|Re-verify> & co";
    const ESCAPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|Re-verify&gt; &amp; co";
    const posted = (sent: Sent[]) => (JSON.parse(sent[0]?.body ?? "{}") as { text: string }).text;

    it("Event Fields of the trigger and the current event, and the run", async () => {
      const { ctx, sent } = harness([new Response("ok")]);
      const hostile = eventFields({ id: HOSTILE, alternateId: HOSTILE, displayName: HOSTILE, eventResult: HOSTILE });
      ctx.scope = { ...scope(hostile), event: hostile, run: { id: HOSTILE, workflowId: HOSTILE } };
      const action = SlackAction.parse({
        ...slack(),
        text: "<!here> *{{ trigger.displayName }}* `{{ trigger.id }}` {{ event.alternateId }} {{ event.eventResult }} <https://okta.example/run/{{ run.id }}|{{ run.workflowId }}>",
      });
      await executeAction(action, ctx);
      expect(posted(sent)).toBe(
        `<!here> *${ESCAPED}* \`${ESCAPED}\` ${ESCAPED} ${ESCAPED} <https://okta.example/run/${ESCAPED}|${ESCAPED}>`,
      );
    });

    it("what an earlier node's response held, as text or JSON", async () => {
      const { ctx, sent } = harness([new Response("ok")]);
      ctx.scope = { ...scope(), nodes: { check: { output: { status: 200, body: HOSTILE, json: { name: HOSTILE } } } } };
      const action = SlackAction.parse({
        ...slack(),
        text: "{{ nodes.check.output.body }} | {{ nodes.check.output.json }}",
      });
      await executeAction(action, ctx);
      expect(posted(sent)).toBe(`${ESCAPED} | {"name":"${ESCAPED}"}`);
      expect(posted(sent)).not.toMatch(/[<>]/);
    });

    it("the step key in a repeat's note", async () => {
      const { ctx, sent } = harness([new Response("ok")], ENV, "<!channel>");
      await executeAction(slack(), { ...ctx, attempt: 2 });
      expect(posted(sent)).toContain("of step &lt;!channel&gt;:node-1");
    });
  });

  it("rejects a secret that does not hold an https URL, without showing it", async () => {
    const { ctx } = harness([], { SLACK_WEBHOOK_URL: "not-a-url-but-secret", WORKFLOW_SECRETS: ENV.WORKFLOW_SECRETS });
    const outcome = await executeAction(slack(), ctx);
    expect(outcome).toEqual({
      status: "failed",
      error: "webhook.secret: secret SLACK_WEBHOOK_URL does not hold an http(s) URL",
      retryable: false,
    });
  });
});

describe("okta action", () => {
  const oktaHeaders = (runId = "run-1") => ({
    authorization: `SSWS ${OKTA_TOKEN}`,
    accept: "application/json",
    "content-type": "application/json",
    "idempotency-key": `${runId}:node-1`,
    "user-agent": "okta-event-workflows",
  });

  it("revokes an API token: DELETE /api/v1/api-tokens/{id} with SSWS auth", async () => {
    const { ctx, sent } = harness([new Response(null, { status: 204 })]);
    const action = OktaAction.parse({ type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}" });
    const outcome = await executeAction(action, ctx);
    expect(sent).toEqual([
      {
        url: "https://acme.okta.com/api/v1/api-tokens/00Tabc123",
        method: "DELETE",
        headers: oktaHeaders(),
        body: null,
        redirect: "manual",
      },
    ]);
    expect(outcome).toEqual({
      status: "succeeded",
      output: {
        status: 204,
        body: "",
        truncated: false,
        attempts: 1,
        method: "DELETE",
        url: "https://acme.okta.com/api/v1/api-tokens/00Tabc123",
      },
    });
    expectNoSecrets(outcome);
  });

  it("deactivates an authenticator: POST /api/v1/authenticators/{id}/lifecycle/deactivate", async () => {
    const { ctx, sent } = harness([json({ id: "aut1", status: "INACTIVE" })], {
      ...ENV,
      OKTA_ORG_URL: "https://acme.okta.com/",
    });
    ctx.scope = scope(eventFields({ id: "aut1", type: "Authenticator" }));
    const action = OktaAction.parse({
      type: "okta",
      operation: "deactivateAuthenticator",
      authenticatorId: "{{ event.id }}",
    });
    const outcome = await executeAction(action, ctx);
    expect(sent[0]).toMatchObject({
      url: "https://acme.okta.com/api/v1/authenticators/aut1/lifecycle/deactivate",
      method: "POST",
      headers: oktaHeaders(),
      body: null,
    });
    expect(outcome).toMatchObject({ status: "succeeded", output: { json: { id: "aut1", status: "INACTIVE" } } });
  });

  it("sends a generic request with a templated JSON body and encodes ids into one path segment", async () => {
    const { ctx, sent } = harness([json({ ok: true }), new Response(null, { status: 204 })]);
    const request = OktaAction.parse({
      type: "okta",
      operation: "request",
      method: "POST",
      path: "/api/v1/users/{{ trigger.id }}/lifecycle/suspend",
      body: { reason: "{{ trigger.eventType }}" },
      apiToken: { secret: "OKTA_API_TOKEN" },
    });
    await executeAction(request, ctx);
    expect(sent[0]).toMatchObject({
      url: "https://acme.okta.com/api/v1/users/00Tabc123/lifecycle/suspend",
      method: "POST",
      body: JSON.stringify({ reason: "system.api_token.create" }),
    });

    ctx.scope = scope(eventFields({ id: "a/../b" }));
    await executeAction(
      OktaAction.parse({ type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}" }),
      ctx,
    );
    expect(sent[1]?.url).toBe("https://acme.okta.com/api/v1/api-tokens/a%2F..%2Fb");
  });

  it("keeps a rendered value inside one path segment, so it cannot leave /api/", async () => {
    const { ctx, sent } = harness([json({})]);
    ctx.scope = scope(eventFields({ id: "../../../oauth2/v1/token" }));
    const action = OktaAction.parse({
      type: "okta",
      operation: "request",
      method: "GET",
      path: "/api/v1/users/{{ trigger.id }}",
    });
    const outcome = await executeAction(action, ctx);
    expect(outcome.status).toBe("succeeded");
    expect(sent.map((call) => call.url)).toEqual([
      "https://acme.okta.com/api/v1/users/..%2F..%2F..%2Foauth2%2Fv1%2Ftoken",
    ]);
  });

  it("refuses a written path that leaves /api/ (saved before the rule)", async () => {
    const { ctx, sent } = harness([]);
    const action = OktaAction.parse({
      type: "okta",
      operation: "request",
      method: "GET",
      path: "/api/../oauth2/v1/token",
    });
    const outcome = await executeAction(action, ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.status === "failed" && outcome.error).toContain("leaves the org's /api/");
    expect(sent).toEqual([]);
  });

  it("waits for Okta's X-Rate-Limit-Reset on a 429 without Retry-After", async () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 600);
    const { ctx } = harness([new Response("{}", { status: 429, headers: { "x-rate-limit-reset": reset } })]);
    const outcome = await executeAction(
      OktaAction.parse({ type: "okta", operation: "revokeApiToken", tokenId: "x" }),
      ctx,
    );
    expect(outcome).toMatchObject({ status: "failed", retryable: true });
    expect(outcome.status === "failed" && outcome.retryAfterSeconds).toBeGreaterThan(590);
  });

  it("fails permanently with a 404 reason from Okta", async () => {
    const body = { errorCode: "E0000007", errorSummary: "Not found: Resource not found: x (ApiToken)" };
    const { ctx } = harness([json(body, { status: 404 })]);
    const outcome = await executeAction(
      OktaAction.parse({ type: "okta", operation: "revokeApiToken", tokenId: "x" }),
      ctx,
    );
    expect(outcome).toEqual({
      status: "failed",
      error: `Okta DELETE /api/v1/api-tokens/x: HTTP 404: ${JSON.stringify(body)}`,
      retryable: false,
    });
  });

  it("fails permanently when the token secret or OKTA_ORG_URL is missing", async () => {
    const action = OktaAction.parse({
      type: "okta",
      operation: "revokeApiToken",
      tokenId: "x",
      apiToken: { secret: "OKTA_ADMIN" },
    });
    const missingToken = await executeAction(action, harness([]).ctx);
    expect(missingToken).toEqual({
      status: "failed",
      error:
        "apiToken.secret: secret OKTA_ADMIN is not set; add it with `wrangler secret put OKTA_ADMIN` (locally: add OKTA_ADMIN to .dev.vars and restart npm run dev)",
      retryable: false,
    });
    const missingOrg = await executeAction(action, harness([], { OKTA_ADMIN: OKTA_TOKEN }).ctx);
    expect(missingOrg).toMatchObject({ status: "failed", retryable: false });
    expect(missingOrg.status === "failed" && missingOrg.error).toMatch(/^OKTA_ORG_URL is not set/);
    expectNoSecrets(missingOrg);
  });
});

describe("action schemas", () => {
  const firstIssue = (result: {
    success: boolean;
    error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
  }) => {
    const issue = result.error?.issues[0];
    return issue ? `${issue.path.map(String).join(".")}: ${issue.message}` : "ok";
  };

  it("applies defaults", () => {
    expect(HttpAction.parse({ type: "http", method: "GET", url: "https://x.example" })).toMatchObject({
      timeoutMs: 10_000,
      retries: 2,
    });
    expect(OktaAction.parse({ type: "okta", operation: "revokeApiToken", tokenId: "x" }).apiToken).toEqual({
      secret: "OKTA_API_TOKEN",
    });
  });

  it("rejects an inline credential header", () => {
    const result = HttpAction.safeParse({
      type: "http",
      method: "POST",
      url: "https://x.example",
      headers: { Authorization: "Bearer abc" },
    });
    expect(firstIssue(result)).toBe(
      'headers.Authorization: a credential must reference a Worker secret, e.g. {"secret": "MY_TOKEN"}',
    );
    for (const name of ["X-API-Key", "x-api_key", "X-Auth-Token", "Cookie", "X-Client-Secret", "X-Password"]) {
      expect(
        HttpAction.safeParse({ type: "http", method: "GET", url: "https://x.example", headers: { [name]: "v" } })
          .success,
        name,
      ).toBe(false);
    }
    expect(
      HttpAction.safeParse({
        type: "http",
        method: "GET",
        url: "https://x.example",
        headers: { "X-Request-Source": "okta" },
      }).success,
    ).toBe(true);
  });

  it("rejects an inline Slack webhook URL with a clear message", () => {
    const result = SlackAction.safeParse({ type: "slack", webhook: SLACK_URL, text: "hi" });
    expect(firstIssue(result)).toBe(
      'webhook: the webhook URL is a credential: store it as a Worker secret and reference it, e.g. {"secret": "SLACK_WEBHOOK_URL"}',
    );
  });

  it("rejects a bad secret name", () => {
    const result = SlackAction.safeParse({ type: "slack", webhook: { secret: "slack-url" }, text: "hi" });
    expect(firstIssue(result)).toBe(
      "webhook.secret: a Worker secret name: upper case letters, digits and '_', starting with a letter",
    );
  });

  it("rejects an Okta request path outside /api/", () => {
    const result = OktaAction.safeParse({
      type: "okta",
      operation: "request",
      method: "POST",
      path: "/oauth2/v1/token",
    });
    expect(firstIssue(result)).toBe("path: must start with /api/");
  });

  it("rejects a literal non-http URL, a GET with a body and a broken template", () => {
    expect(firstIssue(HttpAction.safeParse({ type: "http", method: "GET", url: "ftp://x.example" }))).toBe(
      "url: must start with a literal https:// or http:// origin (no placeholder in the scheme, host or port, no user:password@)",
    );
    expect(firstIssue(HttpAction.safeParse({ type: "http", method: "GET", url: "https://x.example", body: {} }))).toBe(
      "body: a GET request cannot have a body",
    );
    expect(
      firstIssue(HttpAction.safeParse({ type: "http", method: "GET", url: "https://x.example/{{ trigger.id" })),
    ).toMatch(/^url: unclosed "\{\{"/);
  });

  it("parses the union by type and lists the secrets each action reads", () => {
    const http = Action.parse({
      type: "http",
      method: "POST",
      url: "https://partner.example.com/{{ nodes.a.output.json.id }}",
      headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " }, "X-Id": "{{ trigger.id }}" },
    });
    const okta = Action.parse({
      type: "okta",
      operation: "deactivateAuthenticator",
      authenticatorId: "{{ trigger.id }}",
    });
    expect(secretNames(http)).toEqual(["PARTNER_TOKEN"]);
    expect(secretNames(okta)).toEqual(["OKTA_API_TOKEN"]);
    expect(envNames(okta)).toEqual(["OKTA_API_TOKEN", "OKTA_ORG_URL"]);
    expect(firstIssue(Action.safeParse({ type: "email" }))).toMatch(/^type: /);
  });
});
