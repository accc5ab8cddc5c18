/**
 * Saving workflow definitions through the admin API: every rejection is a 400 in the
 * one error shape, with a message that names the node or field at fault; the same
 * checks apply to a new version (PUT). Also parseDefinition directly, for the cases
 * cheaper to state without HTTP.
 */
import { describe, expect, it } from "vitest";
import { parseDefinition } from "../src/workflows/validate";
import { api, createWorkflow, type ErrorBody, type WorkflowView } from "./workflow-support";

const TRIGGER = { eventTypes: ["system.api_token.create"] };

function definition(overrides: Record<string, unknown>) {
  return { name: `definition test ${crypto.randomUUID()}`, trigger: TRIGGER, start: null, nodes: {}, ...overrides };
}

const action = (next: string | null = null) => ({
  kind: "action",
  action: { type: "http", method: "POST", url: "https://receiver.example.test/hook" },
  next,
});

const condition = (whenTrue: string | null, whenFalse: string | null) => ({
  kind: "condition",
  when: { field: "eventResult", op: "eq", value: "SUCCESS" },
  true: whenTrue,
  false: whenFalse,
});

const httpWith = (extra: Record<string, unknown>) => ({
  kind: "action",
  action: { type: "http", method: "POST", url: "https://receiver.example.test/hook", ...extra },
});

/** [case, definition, the message must contain each of these]. */
const INVALID: Array<[string, Record<string, unknown>, string[]]> = [
  ["start names an unknown node", definition({ start: "nowhere", nodes: { a: action() } }), ["start", "'nowhere'"]],
  [
    "next names an unknown node",
    definition({ start: "a", nodes: { a: action("ghost") } }),
    ["nodes.a.next", "'ghost'"],
  ],
  [
    "a condition's true branch names an unknown node",
    definition({ start: "c", nodes: { c: condition("ghost", null) } }),
    ["nodes.c.true", "'ghost'"],
  ],
  [
    "a condition's false branch names an unknown node",
    definition({ start: "c", nodes: { c: condition(null, "ghost") } }),
    ["nodes.c.false", "'ghost'"],
  ],
  [
    "the graph has a cycle",
    definition({ start: "a", nodes: { a: action("b"), b: action("c"), c: condition("a", null) } }),
    ["cycle", "a -> b -> c -> a"],
  ],
  ["a node is its own next", definition({ start: "a", nodes: { a: action("a") } }), ["cycle", "a -> a"]],
  [
    "a node is unreachable from start",
    definition({ start: "a", nodes: { a: action(), orphan: action() } }),
    ["nodes.orphan", "unreachable"],
  ],
  [
    "a trigger filter names an unknown Event Field",
    definition({ trigger: { ...TRIGGER, filter: { field: "colour", op: "eq", value: "red" } } }),
    ["trigger.filter", '"colour"', "unknown Event Field"],
  ],
  [
    "a nested trigger filter names an unknown Event Field",
    definition({
      trigger: {
        ...TRIGGER,
        filter: { and: [{ field: "id", op: "exists" }, { not: { field: "severity", op: "eq", value: "x" } }] },
      },
    }),
    ["trigger.filter.and[1].not.field", '"severity"'],
  ],
  [
    "a condition names an unknown Event Field",
    definition({
      start: "c",
      nodes: { c: { kind: "condition", when: { field: "outcome", op: "eq", value: "x" }, true: null, false: null } },
    }),
    ["nodes.c.when.field", '"outcome"', "unknown Event Field"],
  ],
  [
    "the trigger lists an event type outside the category",
    definition({ trigger: { eventTypes: ["system.api_token.create", "user.session.start"] } }),
    ["trigger.eventTypes[1]", '"user.session.start"'],
  ],
  [
    "the trigger lists an event type twice",
    definition({ trigger: { eventTypes: ["system.import.start", "system.import.complete", "system.import.start"] } }),
    ["trigger.eventTypes[2]", "system.import.start is listed more than once"],
  ],
  [
    "an event node lists an event type twice",
    definition({
      start: "e",
      nodes: { e: { kind: "event", eventTypes: ["system.api_token.revoke", "system.api_token.revoke"] } },
    }),
    ["nodes.e.eventTypes[1]", "more than once"],
  ],
  [
    "the trigger misspells an event type: the nearest valid name is suggested",
    definition({ trigger: { eventTypes: ["system.import.completed"] } }),
    ["trigger.eventTypes[0]", '"system.import.completed"', 'did you mean "system.import.complete"?'],
  ],
  [
    "an event node waits for an unknown event type",
    definition({ start: "e", nodes: { e: { kind: "event", eventTypes: ["system.api_token.delete"] } } }),
    ["nodes.e.eventTypes[0]", '"system.api_token.delete"'],
  ],
  [
    "an Authorization header is given inline",
    definition({ start: "a", nodes: { a: httpWith({ headers: { Authorization: "Bearer sk_live_123" } }) } }),
    ["nodes.a.action.headers.Authorization", "Worker secret"],
  ],
  [
    "an API key header is given inline",
    definition({ start: "a", nodes: { a: httpWith({ headers: { "X-Api-Key": "abc" } }) } }),
    ["nodes.a.action.headers.X-Api-Key", "Worker secret"],
  ],
  [
    "a Slack webhook URL is given inline",
    definition({
      start: "s",
      nodes: {
        s: {
          kind: "action",
          action: { type: "slack", webhook: "https://hooks.slack.com/services/T1/B1/abc", text: "hi" },
        },
      },
    }),
    ["nodes.s.action.webhook", "Worker secret"],
  ],
  [
    "an Okta API token is given inline",
    definition({
      start: "o",
      nodes: {
        o: {
          kind: "action",
          action: { type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}", apiToken: "00abc" },
        },
      },
    }),
    ["nodes.o.action.apiToken"],
  ],
  [
    "a template reads an unknown node",
    definition({ start: "a", nodes: { a: httpWith({ body: { previous: "{{ nodes.ghost.output.status }}" } }) } }),
    ["nodes.a.action", "nodes.ghost.output.status", "unknown node 'ghost'"],
  ],
  [
    "a template reads an unknown Event Field",
    definition({ start: "a", nodes: { a: httpWith({ url: "https://receiver.example.test/{{ trigger.colour }}" }) } }),
    ["nodes.a.action", "trigger.colour", "unknown Event Field 'colour'"],
  ],
  [
    "a template reads the current event's unknown field",
    definition({
      start: "s",
      nodes: {
        s: {
          kind: "action",
          action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "{{ event.x }}" },
        },
      },
    }),
    ["nodes.s.action", "event.x"],
  ],
  [
    "a template has unbalanced braces",
    definition({ start: "a", nodes: { a: httpWith({ url: "https://receiver.example.test/{{ trigger.id" }) } }),
    ["nodes.a.action.url", "unclosed"],
  ],
  ["the name is empty", definition({ name: "  " }), ["name"]],
  [
    "a node has an unknown kind",
    definition({ start: "a", nodes: { a: { kind: "script", code: "x" } } }),
    ["nodes.a.kind"],
  ],
];

async function expectRejected(res: Response, mustContain: string[]): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(400);
  const body: ErrorBody = JSON.parse(text);
  expect(body).toEqual({ error: { code: "bad_request", message: expect.any(String) } });
  for (const part of mustContain) expect(body.error.message).toContain(part);
  return body.error.message;
}

describe("POST /api/workflows rejects", () => {
  it.each(INVALID)("%s: 400 naming the node or field", async (_, body, mustContain) => {
    await expectRejected(await api("POST", "/api/workflows", body), mustContain);
  });

  it("a body that is not JSON", async () => {
    const res = await api("POST", "/api/workflows", undefined);
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error.code).toBe("bad_request");
  });

  it("and stores nothing when it rejects", async () => {
    const name = `rejected-${crypto.randomUUID()}`;
    await expectRejected(await api("POST", "/api/workflows", definition({ name, start: "ghost" })), ["start"]);
    const list = await (await api("GET", "/api/workflows")).json<{ workflows: Array<{ name: string }> }>();
    expect(list.workflows.map((w) => w.name)).not.toContain(name);
  });
});

describe("PUT /api/workflows/:id rejects the same way and keeps the current version", () => {
  it.each(INVALID)("%s", async (_, body, mustContain) => {
    const workflow = await createWorkflow(definition({}));
    await expectRejected(await api("PUT", `/api/workflows/${workflow.id}`, body), mustContain);
    const after = await (await api("GET", `/api/workflows/${workflow.id}`)).json<WorkflowView>();
    expect(after.currentVersion).toBe(1);
    expect(after.versions.map((v) => v.version)).toEqual([1]);
  });
});

describe("valid definitions are accepted", () => {
  it("with every node kind, secret references, and templates over trigger, event, nodes and run", async () => {
    const workflow = await createWorkflow({
      name: "everything",
      description: "uses every node kind",
      trigger: { eventTypes: [], filter: { or: [{ field: "eventResult", op: "eq", value: "FAILURE" }] } },
      start: "check",
      nodes: {
        check: { kind: "condition", when: { field: "type", op: "in", values: ["Token"] }, true: "notify", false: null },
        notify: {
          kind: "action",
          action: {
            type: "http",
            method: "POST",
            url: "https://receiver.example.test/{{ trigger.id }}",
            headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " }, "X-Run": "{{ run.id }}" },
            body: { name: "{{ event.displayName }}", check: "{{ nodes.check.output }}" },
          },
          next: "wait",
        },
        wait: { kind: "event", eventTypes: ["system.api_token.revoke"], timeoutSeconds: 60, next: "slack" },
        slack: {
          kind: "action",
          action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "{{ nodes.notify.output.status }}" },
          next: "revoke",
        },
        revoke: { kind: "action", action: { type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}" } },
      },
    });
    expect(workflow.currentVersion).toBe(1);
    expect(workflow.enabled).toBe(true);
    // Defaults are filled in and shown: the category, the Okta token secret, retries.
    expect(workflow.definition).toMatchObject({
      trigger: { category: "okta.system", eventTypes: [] },
      nodes: { revoke: { action: { apiToken: { secret: "OKTA_API_TOKEN" }, retries: 2 } } },
    });
  });

  it("with no nodes at all (start null records matching events as completed runs)", async () => {
    const workflow = await createWorkflow({ name: "record only", trigger: {}, start: null });
    expect(workflow.definition).toMatchObject({ start: null, nodes: {}, trigger: { eventTypes: [] } });
  });
});

describe("authentication", () => {
  it.each([
    ["no bearer token", null],
    ["a wrong bearer token", "not-the-admin-token"],
  ])("answers 401 in the error shape with %s, and creates nothing", async (_, token) => {
    const name = `unauthorised-${crypto.randomUUID()}`;
    for (const [method, path, body] of [
      ["POST", "/api/workflows", definition({ name })],
      ["GET", "/api/workflows", undefined],
      ["PUT", `/api/workflows/${crypto.randomUUID()}`, definition({ name })],
      ["DELETE", `/api/workflows/${crypto.randomUUID()}`, undefined],
    ] as const) {
      const res = await api(method, path, body, token);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    }
    const list = await (await api("GET", "/api/workflows")).json<{ workflows: Array<{ name: string }> }>();
    expect(list.workflows.map((w) => w.name)).not.toContain(name);
  });
});

describe("parseDefinition", () => {
  it("accepts edges given as null or left out", () => {
    const result = parseDefinition({
      name: "edges",
      trigger: {},
      start: "c",
      nodes: { c: { kind: "condition", when: { field: "id", op: "exists" }, true: "a" }, a: action(null) },
    });
    expect(result.ok).toBe(true);
  });

  it("finds a cycle that is not reachable from start only as unreachable nodes, never loops", () => {
    const result = parseDefinition(definition({ start: "a", nodes: { a: action(), x: action("y"), y: action("x") } }));
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/cycle (x -> y -> x|y -> x -> y)/) });
  });

  it("rejects an event node that watches the asset of a node that is not an event node", () => {
    const result = parseDefinition(
      definition({ start: "a", nodes: { a: action("e"), e: { kind: "event", asset: "a" } } }),
    );
    expect(result).toMatchObject({ ok: false, error: "nodes.e.asset: node 'a' is not an event node" });
  });

  it("rejects a template that reads a node's fields other than its output", () => {
    const result = parseDefinition(
      definition({ start: "a", nodes: { a: action("b"), b: httpWith({ body: { x: "{{ nodes.a.status }}" } }) } }),
    );
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringContaining("nodes.b.action.body.x: {{ nodes.a.status }}"),
    });
  });

  it("rejects a malformed node id", () => {
    const result = parseDefinition(definition({ start: "1st", nodes: { "1st": action() } }));
    expect(result.ok).toBe(false);
  });

  it("rejects a GET with a body and an Okta request path outside /api/", () => {
    expect(
      parseDefinition(definition({ start: "a", nodes: { a: httpWith({ method: "GET", body: {} }) } })),
    ).toMatchObject({
      ok: false,
      error: expect.stringContaining("nodes.a.action.body"),
    });
    const okta = parseDefinition(
      definition({
        start: "o",
        nodes: {
          o: { kind: "action", action: { type: "okta", operation: "request", method: "GET", path: "/oauth2" } },
        },
      }),
    );
    expect(okta).toMatchObject({ ok: false, error: expect.stringContaining("nodes.o.action.path") });
  });
});
