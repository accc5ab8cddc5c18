/**
 * A run started by an event older than its workflow's lateness limit is marked late:
 * on the runs API, as a badge on the dashboard's run pages, and in the template values
 * `{{ run.late }}`, `{{ run.lateBy }}` and `{{ run.lateBySeconds }}`, so an alert can
 * say "seen 26 h late". Lateness is the run's start minus the trigger event's
 * published time; the limit is the definition's `lateAfterSeconds` (default 1 h).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { formatDelay, lateness } from "../src/workflows/lateness";
import { getPage, html, signIn } from "./dashboard-support";
import { apiJson, deliverEvent, interceptOutbound, runOf, SLACK_URL, slackOnTokenCreate } from "./workflow-support";

const outbound = interceptOutbound();
let session: string;
beforeAll(async () => {
  session = await signIn();
});

interface LateView {
  late: boolean;
  lateBySeconds: number;
  lateBy: string;
  lateAfterSeconds: number;
}

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

function alerting(lateAfterSeconds?: number) {
  return slackOnTokenCreate(
    "late",
    "token on {{ trigger.id }}: seen {{ run.lateBy }} late (late={{ run.late }}, {{ run.lateBySeconds }} s)",
    lateAfterSeconds === undefined ? {} : { lateAfterSeconds },
  );
}

const slackTextFor = (assetId: string) =>
  outbound
    .to(SLACK_URL)
    .map((call) => String(JSON.parse(call.body).text))
    .filter((text) => text.includes(assetId));

describe("late runs", () => {
  it("marks a run whose event was published 26 h before it started, and says so in the alert", async () => {
    const { assetId, workflow, target } = await alerting();
    const event = await deliverEvent({ eventType: "system.api_token.create", target, published: hoursAgo(26) });
    const run = await runOf(workflow.id, event.uuid);
    expect(run.status).toBe("completed");
    const view = await apiJson<{ late: LateView | null }>("GET", `/api/runs/${run.id}`);
    expect(view.late).toMatchObject({ late: true, lateBy: "26 h", lateAfterSeconds: 3600 });
    expect(view.late?.lateBySeconds).toBeGreaterThanOrEqual(26 * 3600);
    const [text] = slackTextFor(assetId);
    expect(text).toMatch(/seen 26 h late \(late=true, 936\d\d s\)/);

    const listed = await apiJson<{ runs: { id: string; late: LateView | null }[] }>(
      "GET",
      `/api/runs?workflowId=${workflow.id}`,
    );
    expect(listed.runs.find((r) => r.id === run.id)?.late?.late).toBe(true);

    const detail = await html(getPage(`/runs/${run.id}`, session));
    expect(detail).toContain("badge late");
    expect(detail).toMatch(/seen 26 h late/i);
    const list = await html(getPage(`/runs?workflowId=${workflow.id}`, session));
    expect(list).toContain("badge late");
  });

  it("does not mark a run that started as its event arrived", async () => {
    const { assetId, workflow, target } = await alerting();
    const event = await deliverEvent({ eventType: "system.api_token.create", target });
    const run = await runOf(workflow.id, event.uuid);
    const view = await apiJson<{ late: LateView | null }>("GET", `/api/runs/${run.id}`);
    expect(view.late).toMatchObject({ late: false, lateAfterSeconds: 3600 });
    expect(slackTextFor(assetId)[0]).toContain("late=false");
    expect(await html(getPage(`/runs/${run.id}`, session))).not.toContain("badge late");
  });

  it("takes the workflow's own limit: 2 days lets a 26 h old event through", async () => {
    const { assetId, workflow, target } = await alerting(2 * 24 * 3600);
    const event = await deliverEvent({ eventType: "system.api_token.create", target, published: hoursAgo(26) });
    const run = await runOf(workflow.id, event.uuid);
    const view = await apiJson<{ late: LateView | null }>("GET", `/api/runs/${run.id}`);
    expect(view.late).toMatchObject({ late: false, lateBy: "26 h", lateAfterSeconds: 172_800 });
    expect(slackTextFor(assetId)[0]).toContain("late=false");
  });
});

describe("lateness", () => {
  it("is the run's start minus the event's published time, against the limit", () => {
    expect(lateness("2026-11-01T00:00:00.000Z", "2026-11-02T02:00:00.000Z", 3600)).toEqual({
      late: true,
      lateBySeconds: 26 * 3600,
      lateBy: "26 h",
      lateAfterSeconds: 3600,
    });
    expect(lateness("2026-11-01T00:00:00.000Z", "2026-11-01T00:59:00.000Z", 3600).late).toBe(false);
    // A clock a little ahead at Okta is not a negative delay.
    expect(lateness("2026-11-01T00:00:05.000Z", "2026-11-01T00:00:00.000Z", 3600).lateBySeconds).toBe(0);
  });

  it("says a delay the way a person would", () => {
    expect([0, 59, 60, 119 * 60, 2 * 3600, 71 * 3600, 72 * 3600, 400 * 3600].map(formatDelay)).toEqual([
      "0 s",
      "59 s",
      "1 min",
      "119 min",
      "2 h",
      "71 h",
      "3 d",
      "16 d",
    ]);
  });
});
