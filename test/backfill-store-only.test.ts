/**
 * `/api/backfill/deliveries`, the path `npm run okta:backfill` stores System Log pages
 * through: behind the admin token, it keeps every event (deduped by uuid, on the events
 * API) and starts nothing, not even for an enabled workflow the events match, and the
 * cron never sends them to the queue later. Their runs start only by a replay, which
 * says first how many runs and what they would send.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { oktaDelivery } from "../tools/local-okta/builders";
import { ADMIN_TOKEN, postDelivery } from "./support";
import { api, apiJson, buildEvent, interceptOutbound, runOf, SLACK_URL, slackOnTokenCreate } from "./workflow-support";

const outbound = interceptOutbound();
const RANGE = { since: "2026-01-01T00:00:00Z", until: "2099-01-01T00:00:00Z" };

function storePage(events: Record<string, unknown>[], token: string | null = ADMIN_TOKEN) {
  return api(
    "POST",
    "/api/backfill/deliveries",
    { ...oktaDelivery(events), source: "https://example.okta.com/api/v1/logs" },
    token,
  );
}

async function runsOf(workflowId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from runs where workflow_id = ?")
    .bind(workflowId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** An enabled workflow that pages Slack for every API token created on a fresh asset. */
function pagingWorkflow() {
  return slackOnTokenCreate("page on-call", "token {{ trigger.displayName }} on {{ trigger.id }}");
}

describe("store-only backfill", () => {
  it("keeps the events, shows them, and starts no run even for a matching workflow", async () => {
    const { workflow, target } = await pagingWorkflow();
    const old = [1, 2, 3].map((day) =>
      buildEvent({ eventType: "system.api_token.create", target, published: `2026-11-0${day}T08:00:00.000Z` }),
    );
    const res = await storePage(old);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ received: 3, stored: 3, runsStarted: 0 });
    for (const event of old) {
      const shown = await apiJson<{ uuid: string }>("GET", `/api/events/${event.uuid}`);
      expect(shown.uuid).toBe(event.uuid);
    }
    // Nothing was queued, and the cron has nothing to re-send: no run, now or later.
    await runCron();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await runsOf(workflow.id)).toBe(0);
    expect(outbound.to(SLACK_URL)).toEqual([]);
    const rows = await env.DB.prepare(
      `select count(*) as n from events where uuid in (${old.map(() => "?").join(",")}) and enqueued_at is null and consumed_at is not null`,
    )
      .bind(...old.map((event) => event.uuid))
      .first<{ n: number }>();
    expect(rows?.n).toBe(3);

    // Sent again (a resumed backfill re-sends a page): stored once.
    expect(await (await storePage(old)).json()).toEqual({ received: 3, stored: 0, runsStarted: 0 });
  });

  it("stores a System Log delivery sent to the hook (an older okta:backfill) store-only too", async () => {
    const { workflow, target } = await pagingWorkflow();
    const old = buildEvent({ eventType: "system.api_token.create", target, published: "2026-11-01T08:00:00.000Z" });
    const res = await postDelivery({ ...oktaDelivery([old]), source: "https://example.okta.com/api/v1/logs" });
    expect(res.status).toBe(200);
    expect((await apiJson<{ uuid: string }>("GET", `/api/events/${old.uuid}`)).uuid).toBe(old.uuid);
    await runCron();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await runsOf(workflow.id)).toBe(0);
  });

  it("refuses a caller without the admin token, and the hook secret is not enough", async () => {
    const event = buildEvent({ eventType: "system.api_token.create" });
    expect((await storePage([event], null)).status).toBe(401);
    expect((await storePage([event], "test-hook-secret")).status).toBe(401);
    expect((await api("GET", `/api/events/${event.uuid}`)).status).toBe(404);
  });

  it("a replay's dry run then says how many runs would start and what they would send, and the real one starts them", async () => {
    const { assetId, workflow, target } = await pagingWorkflow();
    const old = [1, 2].map((day) =>
      buildEvent({ eventType: "system.api_token.create", target, published: `2026-11-0${day}T08:00:00.000Z` }),
    );
    expect((await storePage(old)).status).toBe(200);
    const plan = await apiJson<{ runs: unknown[]; actions: unknown[] }>("POST", "/api/replays", { ...RANGE, assetId });
    expect(plan.runs).toHaveLength(2);
    expect(plan.actions).toEqual([
      { kind: "slack", target: "Slack webhook (SLACK_WEBHOOK_URL)", runs: 2, afterWait: false },
    ]);
    expect(JSON.stringify(plan)).not.toContain("test-slack-secret");
    expect(await runsOf(workflow.id)).toBe(0);

    await apiJson("POST", "/api/replays", { ...RANGE, assetId, dryRun: false }, 202);
    for (const event of old) expect((await runOf(workflow.id, event.uuid)).status).toBe("completed");
    expect(outbound.to(SLACK_URL).filter((call) => call.body.includes(`token ci on ${assetId}`))).toHaveLength(2);
  });
});
