/**
 * Suppression ("alert once per authenticator per 24 h"), end to end in workerd: the real
 * hook, the real queue consumer (and extra consumer invocations beside it) and D1. The
 * first match fires; a match with the same key inside the window starts no run and is
 * counted on the run that fired; redelivery, two events at once and two consumers decide
 * once; keys are scoped to the Okta org; invalid definitions are refused at their path.
 */
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import authenticatorChangeAlert from "../examples/workflows/authenticator-change-alert.json";
import { createDb } from "../src/db/client";
import { applyRetention } from "../src/retention";
import { MAX_STORED_KEY, readScope, suppressionSlot } from "../src/workflows/suppression";
import { parseDefinition } from "../src/workflows/validate";
import { getPage, html, postForm, signIn } from "./dashboard-support";
import { send } from "./support";
import {
  api,
  apiJson,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  deliverEvent,
  deliverToSource,
  type ErrorBody,
  getRun,
  interceptOutbound,
  newAssetId,
  onAsset,
  post,
  type RunDetail,
  runIdsFor,
  runOf,
  SLACK_URL,
  storeWithoutEnqueue,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

interface Suppressed {
  count: number;
  events: Array<{ eventUuid: string; suppressedAt: string }>;
  window: { source: string | null; key: string; until: string } | null;
}
type SuppressedRun = RunDetail & { suppressed: Suppressed };

const DAY = 24 * 3600;

/** A workflow that posts once per token (its id) per day, on a fresh asset. */
async function oncePerToken(key = "{{ trigger.id }}", forSeconds = DAY) {
  const assetId = newAssetId();
  const endpoint = `https://${crypto.randomUUID()}.example.test/alert`;
  const workflow = await createWorkflow({
    name: `suppression ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    suppress: { key, forSeconds },
    start: "alert",
    nodes: { alert: post(endpoint) },
  });
  const store = () => storeWithoutEnqueue({ eventType: "system.api_token.create", assetId });
  return { assetId, endpoint, workflow, store };
}

const runOfSuppressed = (workflowId: string, uuid: string) => runOf(workflowId, uuid) as Promise<SuppressedRun>;

async function runCount(workflowId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from runs where workflow_id = ?")
    .bind(workflowId)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

/** Ends the window the run holds, as if its period had passed. */
async function endWindowOf(runId: string): Promise<void> {
  await env.DB.prepare("update suppressions set until = ? where run_id = ?")
    .bind(new Date(Date.now() - 1000).toISOString(), runId)
    .run();
}

describe("a workflow with suppress", () => {
  it("fires on the first match, counts a second within the window on that run, and fires again after it", async () => {
    const { assetId, endpoint, workflow } = await oncePerToken();
    const deliverToken = () => deliverEvent({ eventType: "system.api_token.create", assetId });

    const first = await deliverToken();
    const fired = await runOfSuppressed(workflow.id, first.uuid);
    expect(fired.status).toBe("completed");
    expect(fired.suppressed.count).toBe(0);
    const until = fired.suppressed.window?.until ?? "";
    expect(fired.suppressed.window).toEqual({ source: null, key: assetId, until: expect.any(String) });
    expect(Date.parse(until) - Date.parse(fired.startedAt)).toBe(DAY * 1000);

    const second = await deliverToken();
    await consumed(second.uuid);
    expect(await runIdsFor(workflow.id, second.uuid)).toEqual([]);
    const counted = (await getRun(fired.id)) as SuppressedRun;
    expect(counted.suppressed).toMatchObject({ count: 1, events: [{ eventUuid: second.uuid }] });
    expect(counted.suppressed.window?.until).toBe(until);
    expect(outbound.to(endpoint)).toHaveLength(1);

    await endWindowOf(fired.id);
    const third = await deliverToken();
    const again = await runOfSuppressed(workflow.id, third.uuid);
    expect(again.status).toBe("completed");
    expect(again.suppressed).toMatchObject({ count: 0, window: { key: assetId } });
    expect(((await getRun(fired.id)) as SuppressedRun).suppressed).toMatchObject({ count: 1, window: null });
    expect(outbound.to(endpoint)).toHaveLength(2);
  });

  it("counts a redelivered suppressed event once, and a redelivery of the event that fired neither counts nor runs", async () => {
    const { workflow, store, endpoint } = await oncePerToken();
    const first = await store();
    const second = await store();
    await consume([first]);
    const [runId = ""] = await runIdsFor(workflow.id, first.uuid);
    await consume([second]);
    await consume([second]);
    await consume([second, first]);
    expect(await runCount(workflow.id)).toBe(1);
    const run = (await getRun(runId)) as SuppressedRun;
    expect(run.suppressed.count).toBe(1);
    expect(run.suppressed.events.map((e) => e.eventUuid)).toEqual([second.uuid]);
    expect(outbound.to(endpoint)).toHaveLength(1);
  });

  it("a suppressed event redelivered after the window ended stays suppressed: its fate was decided once", async () => {
    const { workflow, store } = await oncePerToken();
    const first = await store();
    const second = await store();
    await consume([first]);
    await consume([second]);
    const [runId = ""] = await runIdsFor(workflow.id, first.uuid);
    await endWindowOf(runId);
    await consume([second]);
    expect(await runIdsFor(workflow.id, second.uuid)).toEqual([]);
    expect(((await getRun(runId)) as SuppressedRun).suppressed.count).toBe(1);
  });

  it("a run that failed holds nothing back: the next match fires, since no alert was sent", async () => {
    const { workflow, store, endpoint } = await oncePerToken();
    outbound.on(endpoint, () => new Response("no such channel", { status: 404 }));
    const first = await store();
    await consume([first]);
    const failed = await runOfSuppressed(workflow.id, first.uuid);
    expect(failed.status).toBe("failed");
    const cookie = await signIn();
    expect(await html(getPage(`/runs/${failed.id}`, cookie))).toContain("the window ended when this run failed");
    expect(failed.suppressed.window).toBeNull();
    const next = await store();
    await consume([next]);
    expect(await runIdsFor(workflow.id, next.uuid)).toHaveLength(1);
    expect(((await getRun(failed.id)) as SuppressedRun).suppressed).toEqual({ count: 0, events: [], window: null });
    const page = await html(getPage(`/runs/${failed.id}`, cookie));
    expect(page).toContain("<strong>0</strong> matches were suppressed");
  });

  it("of two matches in one batch, only the first fires", async () => {
    const { workflow, store } = await oncePerToken();
    const [a, b] = [await store(), await store()];
    const result = await consume([a, b]);
    expect(result.explicitAcks).toEqual(result.ids);
    expect(await runCount(workflow.id)).toBe(1);
    const [runId = ""] = await runIdsFor(workflow.id, a.uuid);
    const run = (await getRun(runId)) as SuppressedRun;
    expect(run.suppressed).toMatchObject({ count: 1, events: [{ eventUuid: b.uuid }] });
  });

  it("two consumers at once start one run, and the other match is counted on it", async () => {
    const { workflow, store } = await oncePerToken();
    const [a, b] = [await store(), await store()];
    await Promise.all([consume([a]), consume([b])]);
    const { results } = await env.DB.prepare("select id, trigger_event_uuid from runs where workflow_id = ?")
      .bind(workflow.id)
      .all<{ id: string; trigger_event_uuid: string }>();
    expect(results).toHaveLength(1);
    const [fired] = results;
    const other = fired?.trigger_event_uuid === a.uuid ? b : a;
    const run = (await getRun(fired?.id ?? "")) as SuppressedRun;
    expect(run.suppressed).toMatchObject({ count: 1, events: [{ eventUuid: other.uuid }] });
  });

  it("keys are per Okta org: the same token id in two orgs fires in each, and repeats within one org are suppressed", async () => {
    const { assetId, workflow } = await oncePerToken();
    const deliverTo = async (source: "acme" | "globex") => {
      const event = buildEvent({ eventType: "system.api_token.create", assetId });
      await deliverToSource(source, [event]);
      return event;
    };
    const acme = () => deliverTo("acme");
    const globex = () => deliverTo("globex");

    const acmeRun = await runOfSuppressed(workflow.id, (await acme()).uuid);
    const globexRun = await runOfSuppressed(workflow.id, (await globex()).uuid);
    expect(acmeRun.suppressed.window).toMatchObject({ source: "acme", key: assetId });
    expect(globexRun.suppressed.window).toMatchObject({ source: "globex", key: assetId });

    const repeat = await acme();
    await consumed(repeat.uuid);
    expect(await runIdsFor(workflow.id, repeat.uuid)).toEqual([]);
    expect(((await getRun(acmeRun.id)) as SuppressedRun).suppressed.count).toBe(1);
    expect(((await getRun(globexRun.id)) as SuppressedRun).suppressed.count).toBe(0);
  });

  it("an event whose key renders empty is never suppressed", async () => {
    const { workflow, assetId } = await oncePerToken("{{ trigger.alternateId }}");
    const noAlternateId = () =>
      storeWithoutEnqueue({
        eventType: "system.api_token.create",
        target: [{ id: assetId, type: "Token", alternateId: null, displayName: "ci" }],
      });
    const [a, b] = [await noAlternateId(), await noAlternateId()];
    await consume([a, b]);
    expect(await runCount(workflow.id)).toBe(2);
    const run = (await getRun((await runIdsFor(workflow.id, a.uuid))[0] ?? "")) as SuppressedRun;
    expect(run.suppressed).toEqual({ count: 0, events: [], window: null });
  });

  it("the run page shows how many matches its window suppressed", async () => {
    const { workflow, store, assetId } = await oncePerToken();
    const [a, b, c] = [await store(), await store(), await store()];
    await consume([a, b, c]);
    const [runId = ""] = await runIdsFor(workflow.id, a.uuid);
    const page = await html(getPage(`/runs/${runId}`, await signIn()));
    expect(page).toContain("Suppressed matches");
    expect(page).toMatch(/<strong>2<\/strong> matches were suppressed/);
    expect(page).toContain(`<code>${assetId}</code>`);
    expect(page).toContain(`/events/${b.uuid}`);

    const workflowPage = await html(getPage(`/workflows/${workflow.id}`, await signIn()));
    expect(workflowPage).toContain("at most one run per <code>{{ trigger.id }}</code> per 24 h");
    const history = await html(getPage(`/runs?workflowId=${workflow.id}`, await signIn()));
    expect(history).toContain("+2 suppressed");
    const listed = await apiJson<{ runs: Array<{ id: string; suppressedCount: number }> }>(
      "GET",
      `/api/runs?workflowId=${workflow.id}`,
    );
    expect(listed.runs.map((run) => [run.id, run.suppressedCount])).toEqual([[runId, 2]]);
  });

  it("a suppressed event names the run it was counted on, in the API and on its page", async () => {
    const { workflow, store } = await oncePerToken();
    const [a, b] = [await store(), await store()];
    await consume([a, b]);
    const [runId = ""] = await runIdsFor(workflow.id, a.uuid);
    const body = await apiJson<{ runs: unknown[]; suppressedBy: unknown[] }>("GET", `/api/events/${b.uuid}/runs`);
    expect(body).toEqual({
      runs: [],
      suppressedBy: [{ runId, workflowId: workflow.id, status: "completed", suppressedAt: expect.any(String) }],
    });
    const fired = await apiJson<{ suppressedBy: unknown[] }>("GET", `/api/events/${a.uuid}/runs`);
    expect(fired.suppressedBy).toEqual([]);
    const page = await html(getPage(`/events/${b.uuid}`, await signIn()));
    expect(page).toContain("suppressed: counted on this run");
    expect(page).toContain(`/runs/${runId}`);
  });

  it("the editor's dry run says whether the event would be suppressed now, and changes nothing", async () => {
    const { workflow, store, assetId } = await oncePerToken();
    const [a, b] = [await store(), await store()];
    await consume([a]);
    const [runId = ""] = await runIdsFor(workflow.id, a.uuid);
    const cookie = await signIn();
    const definition = JSON.stringify(workflow.definition);
    const dry = (path: string) => html(postForm(path, { definition, intent: "test", triggerUuid: b.uuid }, cookie));
    const open = await dry(`/workflows/${workflow.id}/edit`);
    expect(open).toContain(`Suppression key <code>${assetId}</code>`);
    expect(open).toContain("a window is open until");
    expect(open).toContain(`/runs/${runId}`);
    const fresh = await dry("/workflows/new");
    expect(fresh).toContain("no window is open, so arriving now it would start a run");
    expect(fresh).toContain("for 24 h");
    expect(await runCount(workflow.id)).toBe(1);
    expect(((await getRun(runId)) as SuppressedRun).suppressed.count).toBe(0);
  });

  it("the run page escapes the rendered key", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({
      name: `suppression escaping ${assetId}`,
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      suppress: { key: "{{ trigger.displayName }}", forSeconds: 60 },
      start: null,
    });
    const event = await storeWithoutEnqueue({
      eventType: "system.api_token.create",
      target: [{ id: assetId, type: "Token", alternateId: "unknown", displayName: "<img src=x onerror=alert(1)>" }],
    });
    await consume([event]);
    const [runId = ""] = await runIdsFor(workflow.id, event.uuid);
    const page = await html(getPage(`/runs/${runId}`, await signIn()));
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});

describe("examples/workflows/authenticator-change-alert.json", () => {
  it("alerts once per authenticator and kind of change, and an activation does not hide a deactivation", async () => {
    const workflow = await createWorkflow(authenticatorChangeAlert);
    const authenticatorId = newAssetId("aut");
    const change = (eventType: string, assetId = authenticatorId) => storeWithoutEnqueue({ eventType, assetId });
    const ACTIVATE = "security.authenticator.lifecycle.activate";
    const DEACTIVATE = "security.authenticator.lifecycle.deactivate";
    const activated = await change(ACTIVATE);
    const again = await change(ACTIVATE);
    const deactivated = await change(DEACTIVATE);
    const other = await change(ACTIVATE, newAssetId("aut"));
    const slackBefore = outbound.to(SLACK_URL).length;
    await consume([activated, again, deactivated, other]);

    const { results } = await env.DB.prepare("select trigger_event_uuid as uuid from runs where workflow_id = ?")
      .bind(workflow.id)
      .all<{ uuid: string }>();
    expect(results.map((row) => row.uuid).sort()).toEqual([activated.uuid, deactivated.uuid, other.uuid].sort());
    const fired = await runOfSuppressed(workflow.id, activated.uuid);
    expect(fired.suppressed).toMatchObject({ count: 1, events: [{ eventUuid: again.uuid }] });
    await runOf(workflow.id, deactivated.uuid);
    await runOf(workflow.id, other.uuid);
    expect(outbound.to(SLACK_URL).length - slackBefore).toBe(3);
  });
});

describe("retention", () => {
  const count = async (table: string, runId: string) =>
    (await env.DB.prepare(`select count(*) as n from ${table} where run_id = ?`).bind(runId).first<{ n: number }>())
      ?.n ?? -1;

  it("drops an ended window at once, and a run's suppressed matches with the run", async () => {
    const { workflow, store } = await oncePerToken();
    const live = await oncePerToken();
    const [a, b, c] = [await store(), await store(), await live.store()];
    await consume([a, b, c]);
    const [runId = ""] = await runIdsFor(workflow.id, a.uuid);
    const [liveRunId = ""] = await runIdsFor(live.workflow.id, c.uuid);
    expect([await count("suppressions", runId), await count("suppressed_events", runId)]).toEqual([1, 1]);

    await endWindowOf(runId);
    await applyRetention(createDb(env.DB), { RETENTION_DAYS: "90" }, new Date());
    expect([await count("suppressions", runId), await count("suppressed_events", runId)]).toEqual([0, 1]);
    expect(await count("suppressions", liveRunId)).toBe(1);

    const old = new Date(Date.now() - 100 * DAY * 1000).toISOString();
    await env.DB.prepare("update runs set started_at = ? where id = ?").bind(old, runId).run();
    await applyRetention(createDb(env.DB), { RETENTION_DAYS: "90" }, new Date());
    expect(await runIdsFor(workflow.id, a.uuid)).toEqual([]);
    expect(await count("suppressed_events", runId)).toBe(0);
  });
});

describe("saving a suppress that is not valid", () => {
  const definition = (suppress: unknown) => ({
    name: `suppression invalid ${crypto.randomUUID()}`,
    trigger: { eventTypes: ["system.api_token.create"] },
    suppress,
    start: "a",
    nodes: { a: post("https://receiver.example.test/hook") },
  });

  it.each([
    [
      "a key reading an unknown Event Field",
      { key: "{{ trigger.nope }}", forSeconds: 60 },
      "suppress.key: {{ trigger.nope }}: unknown Event Field 'nope'",
    ],
    [
      "a key reading a node",
      { key: "{{ nodes.a.output }}", forSeconds: 60 },
      "suppress.key: {{ nodes.a.output }}: a suppression key reads only the trigger's Event Fields",
    ],
    [
      "a key reading the run",
      { key: "{{ run.id }}", forSeconds: 60 },
      "suppress.key: {{ run.id }}: a suppression key reads only",
    ],
    [
      "a key reading the whole trigger",
      { key: "{{ trigger }}", forSeconds: 60 },
      "suppress.key: {{ trigger }}: a suppression key reads only",
    ],
    ["a key with broken braces", { key: "{{ trigger.id", forSeconds: 60 }, 'suppress.key: unclosed "{{"'],
    ["an empty key", { key: "", forSeconds: 60 }, "suppress.key:"],
    ["a period under a minute", { key: "{{ trigger.id }}", forSeconds: 59 }, "suppress.forSeconds:"],
    ["a period over 30 days", { key: "{{ trigger.id }}", forSeconds: 30 * DAY + 1 }, "suppress.forSeconds:"],
    ["a fractional period", { key: "{{ trigger.id }}", forSeconds: 90.5 }, "suppress.forSeconds:"],
    ["no period", { key: "{{ trigger.id }}" }, "suppress.forSeconds:"],
    ["an unknown key", { key: "{{ trigger.id }}", forSeconds: 60, per: "day" }, "suppress.per: unknown key"],
  ])("%s is refused at its path, and nothing is created", async (_, suppress, message) => {
    const body = definition(suppress);
    const res = await api("POST", "/api/workflows", body);
    expect(res.status).toBe(400);
    const error = await res.json<ErrorBody>();
    expect(error.error.message).toContain(message);
    const { results } = await env.DB.prepare("select id from workflows where name = ?").bind(body.name).all();
    expect(results).toEqual([]);
  });

  it("a key of plain text (one run per period for the whole workflow) is accepted", async () => {
    const res = await api("POST", "/api/workflows", definition({ key: "all", forSeconds: 3600 }));
    expect(res.status).toBe(201);
  });
});

describe("the rules, directly", () => {
  const fields = (overrides: Record<string, unknown> = {}) => ({
    id: "aut1",
    type: "Authenticator",
    alternateId: "okta_verify",
    displayName: "Okta Verify",
    eventType: "security.authenticator.lifecycle.deactivate",
    eventResult: "SUCCESS",
    eventDate: "2026-12-04T10:00:00.000Z",
    eventTimestamp: "2026-12-04T10:00:01.000Z",
    source: null,
    ...overrides,
  });
  const suppress = (key: string) => ({ key, forSeconds: 3600 });

  it("scopes the rendered key to the event's source, as WaitRoom names are", async () => {
    const single = await suppressionSlot(suppress("{{ trigger.id }}"), fields(), "wf");
    const acme = await suppressionSlot(suppress("{{ trigger.id }}"), fields({ source: "acme" }), "wf");
    expect(single).toEqual({ scope: '[null,"aut1"]', forSeconds: 3600 });
    expect(acme?.scope).toBe('["acme","aut1"]');
    expect(readScope(acme?.scope ?? "")).toEqual({ source: "acme", key: "aut1" });
  });

  it("has no slot without suppress, or for a key that renders empty or blank", async () => {
    expect(await suppressionSlot(undefined, fields(), "wf")).toBeNull();
    expect(
      await suppressionSlot(suppress("{{ trigger.alternateId }}"), fields({ alternateId: null }), "wf"),
    ).toBeNull();
    expect(
      await suppressionSlot(suppress(" {{ trigger.alternateId }} "), fields({ alternateId: "" }), "wf"),
    ).toBeNull();
  });

  it("stores a key longer than the limit as its SHA-256, the same for the same key", async () => {
    const long = "x".repeat(MAX_STORED_KEY + 1);
    const slot = await suppressionSlot(suppress("{{ trigger.displayName }}"), fields({ displayName: long }), "wf");
    const again = await suppressionSlot(suppress("{{ trigger.displayName }}"), fields({ displayName: long }), "wf");
    expect(readScope(slot?.scope ?? "")?.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again).toEqual(slot);
  });

  it("reports every problem of a definition at once, each at its exact path", () => {
    const result = parseDefinition({
      name: "problems",
      trigger: { eventTypes: ["system.api_token.create"] },
      suppress: { key: "{{ event.id }} {{ trigger.nope }}", forSeconds: 10 },
      start: "ghost",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { path: "suppress.key", message: expect.stringContaining("{{ event.id }}: a suppression key reads only") },
      { path: "suppress.key", message: expect.stringContaining("{{ trigger.nope }}: unknown Event Field 'nope'") },
      { path: "suppress.forSeconds", message: expect.any(String) },
      { path: "start", message: "refers to unknown node 'ghost'" },
    ]);
  });

  it("the OpenAPI document describes suppress and a run's suppressed matches", async () => {
    const doc = await (await send(new Request("http://worker.test/api/openapi.json"))).json<{
      components: { schemas: Record<string, unknown> };
    }>();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["Suppression", "RunSuppression"]));
  });
});
