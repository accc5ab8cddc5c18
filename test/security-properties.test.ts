/**
 * Property-based tests (fast-check): hostile definitions, deliveries and API calls
 * never get a 5xx, never leave partial state, and no response carries a secret or
 * a derived form of one. Run counts are kept small so the suite stays in CI time.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redact, secretForms } from "../src/workflows/actions/redact";
import { renderUrl } from "../src/workflows/actions/url-template";
import { eventFields } from "./event-fields";
import { ADMIN_TOKEN, freshClientIp, HOOK_SECRET, HOOK_URL, send } from "./support";
import { api } from "./workflow-support";

const scopeWith = (displayName: string) => ({
  trigger: eventFields({ displayName }),
  event: eventFields({ displayName }),
  nodes: {},
  run: { id: "run-1", workflowId: "wf-1" },
});

describe("rendered URLs", () => {
  it("keep the written origin and path shape whatever a value holds", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (value) => {
        const rendered = renderUrl(
          "https://partner.example.com/a/{{ trigger.displayName }}/b?q={{ trigger.displayName }}",
          scopeWith(value),
        );
        if ("error" in rendered) return; // a "." or ".." segment is refused, never sent
        expect(rendered.url.origin).toBe("https://partner.example.com");
        expect(rendered.url.pathname.split("/")).toHaveLength(4);
        expect(rendered.url.pathname.startsWith("/a/")).toBe(true);
        expect(rendered.url.pathname.endsWith("/b")).toBe(true);
        expect(rendered.url.searchParams.get("q")).toBe(value);
        expect([...rendered.url.searchParams.keys()]).toEqual(["q"]);
        expect(rendered.url.hash).toBe("");
      }),
      { numRuns: 200 },
    );
  });
});

describe("redaction", () => {
  const encodings: Array<[string, (secret: string) => string]> = [
    ["raw", (s) => s],
    ["base64", (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)))],
    ["hex", (s) => [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, "0")).join("")],
    ["percent", (s) => encodeURIComponent(s)],
    ["json", (s) => JSON.stringify(s).slice(1, -1)],
  ];

  it("removes every encoding of a secret from any surrounding text", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 40, unit: "grapheme-ascii" }),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.constantFrom(...encodings),
        (secret, before, after, [, encode]) => {
          const out = redact(`${before}${encode(secret)}${after}`, [secret]);
          expect(out).not.toContain(secret);
          // The part of an encoding determined by the secret alone (its edges may mix with neighbours in base64).
          const core = encode(secret).slice(4, -4);
          if (core.length >= 8) expect(out).not.toContain(core);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("derives forms only from secrets long enough not to match ordinary text", () => {
    expect(secretForms("abc")).toEqual(["abc"]);
  });
});

/** Workflow rows and versions, to prove a rejected request wrote nothing. */
async function workflowCounts(): Promise<string> {
  const [rows, versions, triggers] = await env.DB.batch<{ n: number }>([
    env.DB.prepare("select count(*) as n from workflows"),
    env.DB.prepare("select count(*) as n from workflow_versions"),
    env.DB.prepare("select count(*) as n from workflow_triggers"),
  ]);
  return [rows, versions, triggers].map((r) => r?.results[0]?.n).join("/");
}

const SECRET_VALUES = [
  ADMIN_TOKEN,
  HOOK_SECRET,
  "test-okta-api-token",
  "sk_live_partner_0123456789",
  "test-slack-secret",
];

function expectNoSecret(text: string): void {
  for (const secret of SECRET_VALUES) {
    for (const form of secretForms(secret)) expect(text).not.toContain(form);
  }
}

/** Definitions that are mostly almost right: real node kinds and fields with hostile values. */
const hostileValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    "constructor",
    "__proto__",
    "toString",
    "{{constructor.constructor('x')()}}",
    "{{ trigger.displayName }}",
    "https://{{ trigger.id }}.example.com",
    "http://worker.test/api/workflows",
    "http://127.0.0.1/x",
  ),
  fc.integer(),
  fc.constant(null),
);
const secretRef = fc.record({
  secret: fc.constantFrom("ADMIN_TOKEN", "OKTA_HOOK_SECRET", "OKTA_API_TOKEN", "PARTNER_TOKEN", "NOPE", "x"),
});
const node = fc.oneof(
  fc.record(
    {
      kind: fc.constant("action"),
      action: fc.record(
        {
          type: fc.constantFrom("http", "slack", "okta"),
          method: fc.constantFrom("GET", "POST", "TRACE"),
          url: hostileValue,
          headers: fc.dictionary(
            fc.constantFrom("Authorization", "X-Key", "bad header"),
            fc.oneof(hostileValue, secretRef),
          ),
          body: fc.jsonValue({ maxDepth: 4 }),
          webhook: secretRef,
          operation: fc.constantFrom("revokeApiToken", "request"),
          path: hostileValue,
          tokenId: hostileValue,
        },
        { requiredKeys: ["type"] },
      ),
      next: hostileValue,
    },
    { requiredKeys: ["kind"] },
  ),
  fc.record({
    kind: fc.constant("condition"),
    when: fc.jsonValue({ maxDepth: 3 }),
    true: hostileValue,
    false: hostileValue,
  }),
  fc.record({
    kind: fc.constantFrom("event", "script"),
    eventTypes: fc.array(hostileValue),
    timeoutSeconds: hostileValue,
  }),
);
const definition = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
    trigger: fc.oneof(
      fc.record({ eventTypes: fc.array(fc.constantFrom("system.api_token.create", "nope")) }),
      hostileValue,
    ),
    start: hostileValue,
    nodes: fc.dictionary(fc.constantFrom("a", "b", "constructor", "toString", "1x"), node, { maxKeys: 4 }),
  },
  { requiredKeys: [] },
);

describe("the admin API under hostile input", () => {
  it("answers hostile definitions with 201 or a 4xx, writes nothing on a 4xx, never shows a secret", async () => {
    await fc.assert(
      fc.asyncProperty(definition, async (body) => {
        const before = await workflowCounts();
        const res = await api("POST", "/api/workflows", body);
        const text = await res.text();
        expect(res.status, text).toBeLessThan(500);
        expectNoSecret(text);
        if (res.status !== 201) expect(await workflowCounts()).toBe(before);
      }),
      { numRuns: 80 },
    );
  });

  it("answers arbitrary paths, queries and cursors without a 5xx or a secret", async () => {
    const path = fc.oneof(
      fc.constantFrom("/api/events", "/api/runs", "/api/workflows", "/api/event-types", "/api/wait-rooms/x"),
      fc.string({ maxLength: 20 }).map((s) => `/api/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 20 }).map((s) => `/api/workflows/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 20 }).map((s) => `/api/runs/${encodeURIComponent(s)}`),
    );
    const query = fc.dictionary(
      fc.constantFrom("cursor", "limit", "since", "until", "eventType", "status", "id", "workflowId", "force"),
      fc.string({ maxLength: 30 }),
      { maxKeys: 3 },
    );
    await fc.assert(
      fc.asyncProperty(path, query, fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD"), async (p, q, method) => {
        const res = await send(
          new Request(`http://worker.test${p}?${new URLSearchParams(q)}`, {
            method,
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
            body: method === "GET" || method === "HEAD" ? undefined : "{}",
          }),
        );
        const text = await res.text();
        expect(res.status, `${method} ${p} ${text}`).toBeLessThan(500);
        expectNoSecret(text);
      }),
      { numRuns: 80 },
    );
  });
});

describe("the hook under hostile deliveries", () => {
  it("answers any body with 200 or a 4xx and never shows a secret", async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      fc
        .record({
          eventType: fc.constant("com.okta.event_hook"),
          eventId: fc.string({ maxLength: 20 }),
          data: fc.record({
            events: fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), {
              maxLength: 3,
            }),
          }),
        })
        .map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 50 }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (text, withSecret) => {
        const res = await send(
          new Request(HOOK_URL, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "cf-connecting-ip": freshClientIp(),
              ...(withSecret ? { authorization: HOOK_SECRET } : {}),
            },
            body: text,
          }),
        );
        const answer = await res.text();
        expect(res.status, answer).toBeLessThan(500);
        if (!withSecret) expect(res.status).toBe(401);
        expectNoSecret(answer);
      }),
      { numRuns: 60 },
    );
  });
});
