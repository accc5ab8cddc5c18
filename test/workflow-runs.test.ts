/**
 * Runs through the engine, end to end: a real delivery, the real queue consumer and
 * D1, with only the outbound HTTP intercepted. Conditions and their branches, each
 * action kind, retries and permanent failures, templates, and secrets kept out of
 * D1 and the API.
 */
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { expectLogged } from "./expected-logs";
import {
  api,
  consume,
  createWorkflow,
  deliverEvent,
  getRun,
  interceptOutbound,
  newAssetId,
  OKTA_API_TOKEN,
  onAsset,
  post,
  runOf,
  SLACK_URL,
  until,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

const newEndpoint = () => `https://${crypto.randomUUID()}.example.test`;

/** A workflow started by token creations on one fresh asset. */
async function tokenWorkflow(start: string | null, nodes: Record<string, unknown>) {
  const assetId = newAssetId();
  const workflow = await createWorkflow({
    name: `runs test ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start,
    nodes,
  });
  const trigger = (options: { result?: string; displayName?: string } = {}) =>
    deliverEvent({
      eventType: "system.api_token.create",
      target: [{ id: assetId, type: "Token", alternateId: "unknown", displayName: options.displayName ?? "ci-token" }],
      result: options.result,
    });
  return { workflow, assetId, trigger };
}

describe("condition nodes", () => {
  const branches = (base: string) => ({
    check: {
      kind: "condition",
      when: { field: "eventResult", op: "eq", value: "SUCCESS" },
      true: "onTrue",
      false: "onFalse",
    },
    onTrue: post(`${base}/true`),
    onFalse: post(`${base}/false`),
  });

  it("takes the True branch and records the condition's outcome as a step", async () => {
    const base = newEndpoint();
    const { workflow, trigger } = await tokenWorkflow("check", branches(base));
    const run = await runOf(workflow.id, (await trigger({ result: "SUCCESS" })).uuid);
    expect(run.status).toBe("completed");
    expect(run.steps.map((s) => [s.seq, s.nodeId, s.kind, s.status, s.outcome])).toEqual([
      [1, "check", "condition", "succeeded", "true"],
      [2, "onTrue", "action", "succeeded", "next"],
    ]);
    expect(run.steps[0]?.output).toEqual({ result: true });
    expect(outbound.to(`${base}/true`)).toHaveLength(1);
    expect(outbound.to(`${base}/false`)).toHaveLength(0);
  });

  it("takes the False branch", async () => {
    const base = newEndpoint();
    const { workflow, trigger } = await tokenWorkflow("check", branches(base));
    const run = await runOf(workflow.id, (await trigger({ result: "FAILURE" })).uuid);
    expect(run.steps.map((s) => [s.nodeId, s.outcome])).toEqual([
      ["check", "false"],
      ["onFalse", "next"],
    ]);
    expect(outbound.to(`${base}/false`)).toHaveLength(1);
    expect(outbound.to(`${base}/true`)).toHaveLength(0);
  });

  it.each([
    ["False", { result: "FAILURE" }, "false"],
    ["True", { result: "SUCCESS" }, "true"],
  ])("an empty %s branch completes the run", async (_, event, outcome) => {
    const base = newEndpoint();
    const nodes = {
      check: {
        kind: "condition",
        when: { field: "eventResult", op: "eq", value: "SUCCESS" },
        ...(outcome === "true" ? { false: "act" } : { true: "act" }),
      },
      act: post(base),
    };
    const { workflow, trigger } = await tokenWorkflow("check", nodes);
    const run = await runOf(workflow.id, (await trigger(event)).uuid);
    expect(run.status).toBe("completed");
    expect(run.error).toBeNull();
    expect(run.endedAt).not.toBeNull();
    expect(run.steps.map((s) => [s.nodeId, s.outcome])).toEqual([["check", outcome]]);
    expect(outbound.to(base)).toHaveLength(0);
  });
});

describe("each action kind succeeds through the engine", () => {
  it("http: the rendered request, with an Idempotency-Key of the run and node, and its response as output", async () => {
    const base = newEndpoint();
    outbound.on(base, () => Response.json({ received: true }, { status: 201 }));
    const { workflow, assetId, trigger } = await tokenWorkflow("call", {
      call: {
        kind: "action",
        action: {
          type: "http",
          method: "PUT",
          url: `${base}/tokens/{{ trigger.id }}`,
          headers: { "X-Event": "{{ trigger.eventType }}" },
          body: { name: "{{ trigger.displayName }}", result: "{{ trigger.eventResult }}" },
        },
      },
    });
    const run = await runOf(workflow.id, (await trigger({ displayName: "deploy-bot" })).uuid);
    expect(run.status).toBe("completed");
    const [call] = outbound.to(base);
    expect(call).toMatchObject({
      method: "PUT",
      url: `${base}/tokens/${assetId}`,
      headers: {
        "x-event": "system.api_token.create",
        "idempotency-key": `${run.id}:call`,
        "content-type": "application/json",
      },
    });
    expect(JSON.parse(call?.body ?? "")).toEqual({ name: "deploy-bot", result: "SUCCESS" });
    expect(run.steps[0]?.output).toMatchObject({
      status: 201,
      json: { received: true },
      attempts: 1,
      method: "PUT",
      url: `${base}/tokens/${assetId}`,
    });
  });

  it("slack: posts the text to the webhook URL held in SLACK_WEBHOOK_URL, and never shows that URL", async () => {
    const marker = crypto.randomUUID();
    const { workflow, trigger } = await tokenWorkflow("tell", {
      tell: {
        kind: "action",
        action: {
          type: "slack",
          webhook: { secret: "SLACK_WEBHOOK_URL" },
          text: `${marker}: token {{ trigger.displayName }} created`,
        },
      },
    });
    const run = await runOf(workflow.id, (await trigger({ displayName: "laptop" })).uuid);
    expect(run.status).toBe("completed");
    const calls = outbound.where((call) => call.body.includes(marker));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: "POST", url: SLACK_URL });
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ text: `${marker}: token laptop created` });
    expect(run.steps[0]?.output).toMatchObject({ status: 200, attempts: 1 });
    expect(run.steps[0]?.output).not.toHaveProperty("url");
  });

  it("okta revokeApiToken: DELETE on the org's api-tokens/<trigger id> with the SSWS token", async () => {
    const { workflow, assetId, trigger } = await tokenWorkflow("revoke", {
      revoke: { kind: "action", action: { type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}" } },
    });
    const url = `https://example.okta.com/api/v1/api-tokens/${assetId}`;
    outbound.on(url, () => new Response(null, { status: 204 }));
    const run = await runOf(workflow.id, (await trigger()).uuid);
    expect(run.status).toBe("completed");
    const calls = outbound.to(url);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      method: "DELETE",
      headers: { authorization: `SSWS ${OKTA_API_TOKEN}`, accept: "application/json" },
    });
    expect(run.steps[0]).toMatchObject({ status: "succeeded", output: { status: 204, method: "DELETE", url } });
  });
});

describe("failures", () => {
  it("a 503 then a 200 is one succeeded step, with both attempts in its output", async () => {
    const base = newEndpoint();
    let answered = 0;
    outbound.on(base, () => {
      answered += 1;
      return answered === 1 ? new Response("busy", { status: 503 }) : new Response("ok", { status: 200 });
    });
    const { workflow, trigger } = await tokenWorkflow("call", { call: post(base) });
    const run = await runOf(workflow.id, (await trigger()).uuid);
    expect(run.status).toBe("completed");
    expect(outbound.to(base)).toHaveLength(2);
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ nodeId: "call", status: "succeeded", output: { status: 200, attempts: 2 } });
  });

  it("a 503 that outlasts the action's own retries is retried by the queue, then fails the run", async () => {
    // The run fails on purpose; its "run failed" warning is expected.
    expectLogged("warn", "run failed");
    const base = newEndpoint();
    outbound.on(base, () => new Response("still busy", { status: 503 }));
    const { workflow, trigger } = await tokenWorkflow("call", {
      call: { kind: "action", action: { type: "http", method: "POST", url: base, retries: 0 } },
    });
    const event = await trigger();
    // The real consumer tried once and asked the queue to come back later; the run is still running.
    const deferred = await until(async () => {
      const row = await env.DB.prepare(
        "select r.id, r.status, r.lease_until, s.attempts, s.error from runs r join run_steps s on s.run_id = r.id where r.workflow_id = ? and r.trigger_event_uuid = ?",
      )
        .bind(workflow.id, event.uuid)
        .first<{ id: string; status: string; lease_until: string | null; attempts: number; error: string | null }>();
      return row?.error && row.lease_until === null ? row : null;
    }, "the first attempt to be deferred");
    expect(deferred).toMatchObject({ status: "running", attempts: 1 });
    expect(deferred.error).toContain("HTTP 503");
    const shown = await getRun(deferred.id);
    expect(shown.steps[0]).toMatchObject({ status: "running", attempts: 1, error: expect.stringContaining("503") });

    // Handed back before its delay is over, the run is not executed (no attempt used).
    await consume([{ kind: "run", runId: deferred.id }]);
    expect(outbound.to(base)).toHaveLength(1);
    // The delayed messages, each arriving once the delay is over (here: the delay moved into the past).
    for (let i = 2; i <= 5; i++) {
      await env.DB.prepare("update runs set not_before = ? where id = ?")
        .bind(new Date(Date.now() - 1000).toISOString(), deferred.id)
        .run();
      const result = await consume([{ kind: "run", runId: deferred.id }]);
      expect(result.explicitAcks).toEqual(result.ids);
    }

    const run = await getRun(deferred.id);
    expect(run.status).toBe("failed");
    expect(run.error).toContain("HTTP 503");
    expect(run.steps[0]).toMatchObject({ status: "failed", attempts: 5 });
    expect(outbound.to(base)).toHaveLength(5);
  });

  it("a 400 fails the run at once with the reason, and the next node never runs", async () => {
    // The run fails on purpose; its "run failed" warning is expected.
    expectLogged("warn", "run failed");
    const base = newEndpoint();
    outbound.on(`${base}/first`, () => new Response("field 'name' is required", { status: 400 }));
    const { workflow, trigger } = await tokenWorkflow("first", {
      first: post(`${base}/first`, "second"),
      second: post(`${base}/second`),
    });
    const run = await runOf(workflow.id, (await trigger()).uuid);
    expect(run.status).toBe("failed");
    expect(run.error).toContain("node first");
    expect(run.error).toContain("HTTP 400");
    expect(run.error).toContain("field 'name' is required");
    expect(run.steps).toHaveLength(1);
    expect(run.steps[0]).toMatchObject({ nodeId: "first", status: "failed", outcome: null, attempts: 1 });
    expect(run.steps[0]?.error).toContain("HTTP 400");
    expect(outbound.to(`${base}/first`)).toHaveLength(1);
    expect(outbound.to(`${base}/second`)).toHaveLength(0);
  });

  it("a missing secret fails the run naming the secret", async () => {
    // The run fails on purpose; its "run failed" warning is expected.
    expectLogged("warn", "run failed");
    // UNSET_TOKEN is declared for this origin (vitest.config.ts) but has no value.
    const base = `https://receiver.example.test/${crypto.randomUUID()}`;
    const { workflow, trigger } = await tokenWorkflow("call", {
      call: {
        kind: "action",
        action: { type: "http", method: "POST", url: base, headers: { Authorization: { secret: "UNSET_TOKEN" } } },
      },
    });
    const run = await runOf(workflow.id, (await trigger()).uuid);
    expect(run.status).toBe("failed");
    expect(run.error).toContain("UNSET_TOKEN is not set");
    expect(outbound.to(base)).toHaveLength(0);
  });
});

describe("templates", () => {
  it("read the trigger's Event Fields and an earlier node's output", async () => {
    const base = newEndpoint();
    outbound.on(`${base}/ticket`, () => Response.json({ ticket: "T-42", items: [{ id: "first-item" }] }));
    const { workflow, assetId, trigger } = await tokenWorkflow("ticket", {
      ticket: post(`${base}/ticket`, "follow"),
      follow: post(`${base}/follow/{{ nodes.ticket.output.json.ticket }}`, null, {
        token: "{{ trigger.id }}",
        label: "{{ trigger.displayName }} ({{ trigger.type }})",
        ticket: "{{ nodes.ticket.output.json.ticket }}",
        item: "{{ nodes.ticket.output.json.items[0].id }}",
        status: "{{ nodes.ticket.output.status }}",
        alternate: "{{ trigger.alternateId }}",
        absent: "{{ nodes.ticket.output.json.nothing }}",
        run: "{{ run.id }}",
        workflow: "{{ run.workflowId }}",
      }),
    });
    const run = await runOf(workflow.id, (await trigger({ displayName: "deploy-bot" })).uuid);
    expect(run.status).toBe("completed");
    const [follow] = outbound.to(`${base}/follow/T-42`);
    expect(JSON.parse(follow?.body ?? "")).toEqual({
      token: assetId,
      label: "deploy-bot (Token)",
      ticket: "T-42",
      item: "first-item",
      // A whole-string placeholder keeps the value's JSON type.
      status: 200,
      alternate: "unknown",
      // A missing value is null in a whole-string placeholder.
      absent: null,
      run: run.id,
      workflow: workflow.id,
    });
  });
});

describe("secrets", () => {
  const PARTNER_TOKEN = "sk_live_partner_0123456789";
  const SECRETS = [OKTA_API_TOKEN, PARTNER_TOKEN, btoa(PARTNER_TOKEN), "test-slack-secret", SLACK_URL, "T000/B000"];

  /** Every text column of every runs and run_steps row, and of the workflow definitions. */
  async function storedText(): Promise<string> {
    const tables = ["runs", "run_steps", "workflow_versions", "workflows"];
    const dumps = await Promise.all(
      tables.map(async (table) => JSON.stringify((await env.DB.prepare(`select * from ${table}`).all()).results)),
    );
    return dumps.join("\n");
  }

  it("never reach D1 or the runs API, even when an endpoint echoes them back", async () => {
    // The run fails on purpose; its "run failed" warning is expected.
    expectLogged("warn", "run failed");
    // An origin PARTNER_TOKEN is declared for (vitest.config.ts).
    const base = `https://receiver.example.test/${crypto.randomUUID()}`;
    // Endpoints that echo what they received, as a misbehaving receiver or an error page might.
    const echo = (status: number) => (call: { url: string; headers: Record<string, string>; body: string }) =>
      Response.json({ authorization: call.headers.authorization ?? null, url: call.url, body: call.body }, { status });
    outbound.on(SLACK_URL, echo(200));
    outbound.on("https://example.okta.com/api/v1/api-tokens/", echo(200));
    outbound.on(`${base}/fails`, echo(400));
    const { workflow, trigger } = await tokenWorkflow("revoke", {
      revoke: {
        kind: "action",
        action: { type: "okta", operation: "revokeApiToken", tokenId: "{{ trigger.id }}" },
        next: "tell",
      },
      tell: {
        kind: "action",
        action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "revoked {{ trigger.id }}" },
        next: "fails",
      },
      fails: {
        kind: "action",
        action: {
          type: "http",
          method: "POST",
          url: `${base}/fails`,
          headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " } },
          body: { slack: "{{ nodes.tell.output.body }}", okta: "{{ nodes.revoke.output.body }}" },
        },
      },
    });
    const run = await runOf(workflow.id, (await trigger()).uuid);
    expect(run.status).toBe("failed");
    expect(run.steps.map((s) => [s.nodeId, s.status])).toEqual([
      ["revoke", "succeeded"],
      ["tell", "succeeded"],
      ["fails", "failed"],
    ]);
    // The secrets did go out, where they belong...
    expect(outbound.to(SLACK_URL).length).toBeGreaterThan(0);
    expect(outbound.to(`${base}/fails`)[0]?.headers.authorization).toBe(`Bearer ${PARTNER_TOKEN}`);
    // ...and the echoes were scrubbed before anything was stored or shown.
    expect(run.steps[0]?.output?.body).toContain("[redacted]");
    expect(run.error).toContain("[redacted]");
    const shown = [
      await (await api("GET", `/api/runs/${run.id}`)).text(),
      await (await api("GET", `/api/runs?workflowId=${workflow.id}`)).text(),
      await storedText(),
    ];
    for (const text of shown) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
  });
});
