/**
 * Issue 9's defects, one test each, through the Worker's real fetch (workerd, local D1)
 * or the action code the engine calls. Every test here failed before its fix.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { deleteWorkflow, getWorkflow, saveNewVersion } from "../src/db/workflows";
import { definitionCacheBytes, loadDefinitions, MAX_CACHED_BYTES } from "../src/engine/definitions";
import { type ActionContext, executeAction } from "../src/workflows/actions/execute";
import { HttpAction } from "../src/workflows/actions/spec";
import { parseDefinition } from "../src/workflows/validate";
import { oktaDelivery, oktaEvent } from "../tools/local-okta/builders";
import { eventFields } from "./event-fields";
import { HOOK_URL, postDelivery, send } from "./support";
import { api, apiJson, createWorkflow, type ErrorBody, newAssetId, onAsset } from "./workflow-support";

const PARTNER_TOKEN = "sk_live_partner_0123456789";
/** What the operator declared in vitest.config.ts. */
const ENV = {
  WORKFLOW_SECRETS: JSON.stringify({ PARTNER_TOKEN: ["https://partner.example.com"], OKTA_API_TOKEN: "okta" }),
  PARTNER_TOKEN,
  OKTA_API_TOKEN: "00okta-api-token-abcdefghijklmnop",
  OKTA_ORG_URL: "https://acme.okta.com",
  ADMIN_TOKEN: "admin-token-value-1234",
};

afterEach(() => {
  vi.restoreAllMocks();
});

function httpWorkflow(action: Record<string, unknown>, name = `wf ${crypto.randomUUID()}`) {
  return {
    name,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(newAssetId()) },
    start: "a",
    nodes: { a: { kind: "action", action: { type: "http", method: "POST", ...action } } },
  };
}

async function rejected(body: unknown, status = 400): Promise<string> {
  const res = await api("POST", "/api/workflows", body);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text).error.message;
}

function harness(env: object, displayName = "ci-token", reply: () => Response = () => new Response("ok")) {
  const sent: string[] = [];
  const ctx: ActionContext = {
    scope: {
      trigger: eventFields({ displayName }),
      event: eventFields({ displayName }),
      nodes: {},
      run: { id: "run-1", workflowId: "wf-1" },
    },
    env,
    idempotencyKey: "run-1:a",
    fetch: async (input) => {
      sent.push(String(input));
      return reply();
    },
    sleep: async () => {},
  };
  return { ctx, sent };
}

describe("1. secrets by any name", () => {
  it.each(["ADMIN_TOKEN", "OKTA_HOOK_SECRET", "OKTA_HOOK_SECRET_PREVIOUS"])(
    "refuses the service's own secret %s at save, naming the field",
    async (secret) => {
      const message = await rejected(
        httpWorkflow({ url: "https://partner.example.com/x", headers: { Authorization: { secret } } }),
      );
      expect(message).toContain("nodes.a.action.headers.Authorization.secret");
    },
  );

  it("refuses a secret sent over plain http to a non-loopback host", async () => {
    const message = await rejected(
      httpWorkflow({ url: "http://partner.example.com/x", headers: { Authorization: { secret: "PARTNER_TOKEN" } } }),
    );
    expect(message).toContain("nodes.a.action.url");
  });

  it("refuses the Okta API token in a generic http action", async () => {
    const message = await rejected(
      httpWorkflow({ url: "https://partner.example.com/x", headers: { Authorization: { secret: "OKTA_API_TOKEN" } } }),
    );
    expect(message).toContain("nodes.a.action.headers.Authorization.secret");
  });

  it("refuses a secret the operator did not declare, or to an origin not declared for it", async () => {
    await rejected(
      httpWorkflow({ url: "https://partner.example.com/x", headers: { "X-Key": { secret: "NOT_DECLARED" } } }),
    );
    await rejected(
      httpWorkflow({ url: "https://evil.example.net/x", headers: { "X-Key": { secret: "PARTNER_TOKEN" } } }),
    );
  });

  it("checks again at run time: a service secret is never read, nothing is sent", async () => {
    const action = HttpAction.parse({
      type: "http",
      method: "POST",
      url: "https://partner.example.com/x",
      headers: { Authorization: { secret: "ADMIN_TOKEN" } },
    });
    const { ctx, sent } = harness({
      ...ENV,
      WORKFLOW_SECRETS: JSON.stringify({ ADMIN_TOKEN: ["https://partner.example.com"] }),
    });
    const outcome = await executeAction(action, ctx);
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(sent).toEqual([]);
  });
});

describe("2. redaction covers encodings", () => {
  it.each([
    ["base64", (s: string) => btoa(s)],
    ["base64 inside Basic auth", (s: string) => btoa(`user:${s}`)],
    ["base64url", (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")],
    ["hex", (s: string) => [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, "0")).join("")],
    [
      "percent-encoding",
      (s: string) =>
        [...new TextEncoder().encode(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
    ],
    [
      "JSON unicode escapes",
      (s: string) => [...s].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
    ],
  ])("scrubs a %s echo of the secret", async (_name, encode) => {
    const action = HttpAction.parse({
      type: "http",
      method: "POST",
      url: "https://partner.example.com/x",
      headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " } },
    });
    const echoed = encode(PARTNER_TOKEN);
    const { ctx } = harness(
      ENV,
      "ci-token",
      () => new Response(`{"echo":"${echoed}"}`, { headers: { "content-type": "application/json" } }),
    );
    const outcome = await executeAction(action, ctx);
    const text = JSON.stringify(outcome);
    expect(outcome.status).toBe("succeeded");
    expect(text).not.toContain(PARTNER_TOKEN);
    // A Basic header's base64 differs at its edges; the secret's own part must be gone.
    expect(text).not.toContain(btoa(PARTNER_TOKEN).slice(4, -4));
    expect(text).not.toContain(echoed.slice(4, -4));
  });
});

describe("3. template values in an http URL", () => {
  it("are percent-encoded for their position, so a displayName cannot rewrite path or query", async () => {
    const action = HttpAction.parse({
      type: "http",
      method: "POST",
      url: "https://partner.example.com/assets/{{ trigger.displayName }}?q={{ trigger.displayName }}",
      headers: { Authorization: { secret: "PARTNER_TOKEN" } },
    });
    const { ctx, sent } = harness(ENV, "x/../../admin/users?all=true#");
    await executeAction(action, ctx);
    const url = new URL(sent[0] ?? "");
    expect(url.origin).toBe("https://partner.example.com");
    expect(url.pathname).toBe("/assets/x%2F..%2F..%2Fadmin%2Fusers%3Fall%3Dtrue%23");
    expect(url.searchParams.get("q")).toBe("x/../../admin/users?all=true#");
    expect(url.hash).toBe("");
  });

  it("a '..' value is refused rather than climbing the path", async () => {
    const action = HttpAction.parse({
      type: "http",
      method: "POST",
      url: "https://partner.example.com/a/{{ trigger.displayName }}/b",
    });
    const { ctx, sent } = harness(ENV, "..");
    const outcome = await executeAction(action, ctx);
    expect(outcome.status).toBe("failed");
    expect(sent).toEqual([]);
  });

  it("a template in the host is refused at save", async () => {
    const message = await rejected(httpWorkflow({ url: "https://{{ trigger.displayName }}.example.com/x" }));
    expect(message).toContain("nodes.a.action.url");
    await rejected(httpWorkflow({ url: "{{ trigger.displayName }}/x" }));
  });

  it("an action aimed at the Worker's own hook or API is refused at save", async () => {
    await rejected(httpWorkflow({ url: "http://worker.test/hooks/okta" }));
    await rejected(httpWorkflow({ url: "http://worker.test/api/workflows" }));
  });
});

describe("4. HEAD /hooks/okta", () => {
  it("answers 401 without the secret, as GET does", async () => {
    const res = await send(new Request(HOOK_URL, { method: "HEAD" }));
    expect(res.status).toBe(401);
  });
});

describe("5. cursors", () => {
  it("page over events whose uuid is outside Latin-1", async () => {
    const asset = newAssetId();
    const events = ["€-1", "€-2", "€-3"].map((suffix) => ({
      ...oktaEvent({ eventType: "system.api_token.create", target: [{ id: asset, type: "Token" }] }),
      uuid: `${crypto.randomUUID()}-${suffix}`,
    }));
    expect((await postDelivery(oktaDelivery(events))).status).toBe(200);
    const first = await apiJson<{ events: unknown[]; nextCursor: string | null }>(
      "GET",
      `/api/events?id=${asset}&limit=2`,
    );
    expect(first.events).toHaveLength(2);
    const second = await apiJson<{ events: unknown[]; nextCursor: string | null }>(
      "GET",
      `/api/events?id=${asset}&limit=2&cursor=${encodeURIComponent(first.nextCursor ?? "")}`,
    );
    expect(second.events).toHaveLength(1);
  });
});

/** Trigger rows that do not match the current version of an enabled, live workflow. */
async function strayTriggers(workflowId: string): Promise<number> {
  const row = await env.DB.prepare(
    `select count(*) as n from workflow_triggers t
       left join workflows w on w.id = t.workflow_id and w.enabled = 1 and w.deleted_at is null and w.current_version = t.version
     where t.workflow_id = ? and w.id is null`,
  )
    .bind(workflowId)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

describe("6. concurrent admin writes", () => {
  it("a PUT that read the workflow before a DELETE cannot recreate its triggers", async () => {
    const db = createDb(env.DB);
    const definition = httpWorkflow({ url: "https://receiver.example.test/x" });
    const created = await createWorkflow(definition);
    // The interleaving of a racing PUT and DELETE, made deterministic: PUT's read, DELETE's write, PUT's write.
    const readByPut = await getWorkflow(db, created.id);
    if (!readByPut) throw new Error("workflow missing");
    await deleteWorkflow(db, readByPut, new Date());
    const parsed = parseDefinition({ ...definition, description: "v2" });
    if (!parsed.ok) throw new Error("invalid definition");
    await expect(saveNewVersion(db, readByPut, parsed.definition, new Date())).rejects.toThrow();
    expect(await strayTriggers(created.id)).toBe(0);
    expect((await api("GET", `/api/workflows/${created.id}`)).status).toBe(404);
  });

  it("enable or disable racing a PUT never re-indexes the old version", async () => {
    for (let i = 0; i < 5; i++) {
      const definition = httpWorkflow({ url: "https://receiver.example.test/x" });
      const created = await createWorkflow(definition);
      await Promise.all([
        api("PUT", `/api/workflows/${created.id}`, { ...definition, description: "v2" }),
        api("POST", `/api/workflows/${created.id}/${i % 2 ? "enable" : "disable"}`),
      ]);
      expect(await strayTriggers(created.id)).toBe(0);
    }
  });

  it("answers a stale If-Match with 412 and changes nothing", async () => {
    const definition = httpWorkflow({ url: "https://receiver.example.test/x" });
    const created = await createWorkflow(definition);
    const first = await api("GET", `/api/workflows/${created.id}`);
    const etag = first.headers.get("etag");
    expect(etag).toBeTruthy();
    await apiJson("PUT", `/api/workflows/${created.id}`, { ...definition, description: "v2" });
    const stale = await send(
      new Request(`http://worker.test/api/workflows/${created.id}`, {
        method: "PUT",
        headers: {
          authorization: "Bearer test-admin-token",
          "content-type": "application/json",
          "if-match": etag ?? "",
        },
        body: JSON.stringify({ ...definition, description: "v3" }),
      }),
    );
    expect(stale.status).toBe(412);
    const after = await apiJson<{ currentVersion: number }>("GET", `/api/workflows/${created.id}`);
    expect(after.currentVersion).toBe(2);
  });
});

function chain(length: number) {
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < length; i++) {
    nodes[`n${i}`] = {
      kind: "condition",
      when: { field: "id", op: "exists" },
      true: i + 1 < length ? `n${i + 1}` : null,
      false: null,
    };
  }
  return { name: `chain ${crypto.randomUUID()}`, trigger: {}, start: "n0", nodes };
}

function nested(depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
}

describe("7. hostile definitions get a 4xx, never a 500", () => {
  it.each(["constructor", "toString", "hasOwnProperty", "valueOf"])(
    "a reference to '%s' is an unknown node",
    async (name) => {
      await rejected({ name: `proto ${name}`, trigger: {}, start: name, nodes: {} });
      const message = await rejected({
        name: `proto next ${name}`,
        trigger: {},
        start: "a",
        nodes: {
          a: {
            kind: "action",
            action: { type: "http", method: "POST", url: "https://receiver.example.test/x" },
            next: name,
          },
        },
      });
      expect(message).toContain("nodes.a.next");
    },
  );

  it("a 10,000-node chain", async () => {
    const res = await api("POST", "/api/workflows", chain(10_000));
    expect([400, 413]).toContain(res.status);
  });

  it("a filter nested 10,000 deep", async () => {
    await rejected({
      name: "deep filter",
      trigger: { filter: nested(10_000, { field: "id", op: "exists" }, (p) => ({ not: p })) },
    });
  });

  it("an http body nested 10,000 deep", async () => {
    // Written as text: JSON.stringify itself overflows the stack at this depth.
    const definition = JSON.stringify(httpWorkflow({ url: "https://receiver.example.test/x", body: "BODY" }));
    const text = definition.replace('"BODY"', `${"[".repeat(10_000)}"x"${"]".repeat(10_000)}`);
    const res = await send(
      new Request("http://worker.test/api/workflows", {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: text,
      }),
    );
    expect(res.status).toBe(400);
  });

  it("a 12 MB and a 3 MB definition are too large", async () => {
    for (const megabytes of [12, 3]) {
      await rejected({ name: "big", description: "x", trigger: {}, padding: "x".repeat(megabytes * 1024 * 1024) }, 413);
    }
  });

  it("a template in an http body is checked at save, naming its path", async () => {
    const message = await rejected(
      httpWorkflow({ url: "https://receiver.example.test/x", body: { x: "{{constructor.constructor('x')()}}" } }),
    );
    expect(message).toContain("nodes.a.action.body.x");
  });
});

describe("8. the definition cache", () => {
  it("is capped by bytes, evicting the least recently used", async () => {
    const db = createDb(env.DB);
    const keys = [];
    const body = "b".repeat(220 * 1024);
    // 40 definitions of 220 KiB: more than the cap, far fewer entries than the old 20,000-entry limit.
    for (let i = 0; i < 40; i++) {
      const created = await createWorkflow(httpWorkflow({ url: "https://receiver.example.test/x", body }));
      keys.push({ workflowId: created.id, version: 1 });
    }
    const loaded = await loadDefinitions(db, keys);
    expect(loaded).toHaveLength(40);
    expect(definitionCacheBytes()).toBeGreaterThan(MAX_CACHED_BYTES / 2);
    expect(definitionCacheBytes()).toBeLessThanOrEqual(MAX_CACHED_BYTES);
  });
});

describe("issue 8: names and errors", () => {
  it("a second workflow with an existing name is refused with 409 naming the existing id", async () => {
    const definition = httpWorkflow({ url: "https://receiver.example.test/x" });
    const created = await createWorkflow(definition);
    const res = await api("POST", "/api/workflows", { ...definition, name: ` ${definition.name} ` });
    const body = await res.json<ErrorBody>();
    expect(res.status).toBe(409);
    expect(body.error.message).toContain(created.id);
  });

  it("reports all of a definition's errors at once, each with its exact path", async () => {
    const message = await rejected({
      name: "three errors",
      trigger: {},
      start: "a",
      nodes: {
        a: {
          kind: "action",
          action: { type: "http", method: "POST", url: "https://receiver.example.test/{{ trigger.nope }}" },
          next: "missing",
        },
        b: { kind: "condition", when: { field: "nope", op: "exists" } },
      },
    });
    expect(message).toContain("nodes.a.action.url");
    expect(message).toContain("nodes.a.next");
    expect(message).toContain("nodes.b.when.field");
  });
});
