/**
 * Every JSON body the API takes (POST/PUT /api/…) is strict: a key the schema does not
 * know is refused with 400 naming its path, before anything is written or queued. A
 * misspelt key must never fall back to a default (`"types"` for `"eventTypes"` would
 * replay every type).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, consumed, createWorkflow, deliverEvent, type ErrorBody, newAssetId, onAsset } from "./workflow-support";

const TABLES = ["workflows", "workflow_versions", "workflow_triggers", "runs", "run_steps", "replayed_runs", "events"];

/** Row counts of every table a body could change, and the events not yet handled. */
async function state(): Promise<Record<string, number>> {
  const counts = await env.DB.batch<{ n: number }>([
    ...TABLES.map((table) => env.DB.prepare(`select count(*) as n from ${table}`)),
    env.DB.prepare("select count(*) as n from events where consumed_at is null"),
  ]);
  return Object.fromEntries([...TABLES, "unconsumed"].map((name, i) => [name, counts[i]?.results[0]?.n ?? -1]));
}

async function expectRefused(method: string, path: string, body: unknown, keyPath: string): Promise<void> {
  const before = await state();
  const res = await api(method, path, body);
  const answer = (await res.json()) as ErrorBody;
  expect(res.status, JSON.stringify(answer)).toBe(400);
  expect(answer.error.code).toBe("bad_request");
  expect(answer.error.message).toContain(`${keyPath}: unknown key`);
  // Let a queue message that should not exist have its chance to start a run.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await state()).toEqual(before);
}

const RANGE = { since: "2026-01-01T00:00:00Z", until: "2099-01-01T00:00:00Z" };

/** A token event stored and handled before the workflow that wants it exists: what a replay would start. */
async function replayable() {
  const assetId = newAssetId();
  const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
  await consumed(event.uuid);
  const workflow = await createWorkflow({
    name: `strict ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: null,
    nodes: {},
  });
  return { assetId, workflow };
}

const definition = (assetId: string) => ({
  name: `strict def ${assetId}`,
  trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
  start: "tell",
  nodes: { tell: { kind: "action", action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "hi" } } },
});

describe("POST /api/replays", () => {
  it('refuses "types" (not "eventTypes") with its path, and replays nothing', async () => {
    const { assetId } = await replayable();
    await expectRefused(
      "POST",
      "/api/replays",
      { ...RANGE, assetId, types: ["system.api_token.revoke"], dryRun: false },
      "types",
    );
  });

  it("still takes a body with only known keys", async () => {
    const { assetId } = await replayable();
    const res = await api("POST", "/api/replays", { ...RANGE, assetId, eventTypes: ["system.api_token.create"] });
    expect(res.status, await res.text()).toBe(200);
  });
});

describe("workflow bodies", () => {
  it("POST /api/workflows refuses an unknown top-level key and an unknown nested key, saving nothing", async () => {
    const assetId = newAssetId();
    await expectRefused("POST", "/api/workflows", { ...definition(assetId), enabeld: false }, "enabeld");
    const nested = definition(assetId);
    await expectRefused(
      "POST",
      "/api/workflows",
      { ...nested, trigger: { ...nested.trigger, types: ["system.api_token.revoke"] } },
      "trigger.types",
    );
  });

  it("PUT /api/workflows/{id} refuses an unknown key and keeps the current version", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(definition(assetId));
    const changed = definition(assetId);
    await expectRefused(
      "PUT",
      `/api/workflows/${workflow.id}`,
      { ...changed, nodes: { tell: { ...changed.nodes.tell, retry: 3 } } },
      "nodes.tell.retry",
    );
  });
});

describe("endpoints that take no body", () => {
  it("refuse a body with a key (terminate with a reason, enable with options), changing nothing", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({ ...definition(assetId), enabled: false });
    await expectRefused("POST", `/api/workflows/${workflow.id}/enable`, { force: true }, "force");
    await expectRefused("DELETE", `/api/workflows/${workflow.id}`, { force: true }, "force");
    await expectRefused("POST", `/api/runs/${crypto.randomUUID()}/terminate`, { reason: "done" }, "reason");
  });

  it("still take no body, or an empty JSON object", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({ ...definition(assetId), enabled: false });
    const bare = await api("POST", `/api/workflows/${workflow.id}/enable`);
    expect(bare.status, await bare.text()).toBe(200);
    const empty = await api("POST", `/api/workflows/${workflow.id}/disable`, {});
    expect(empty.status, await empty.text()).toBe(200);
  });
});
