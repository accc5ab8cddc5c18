/** The dashboard's pages through the Worker's fetch, on real local D1, queue and WaitRooms. */
import { beforeAll, describe, expect, it } from "vitest";
import { getPage, html, postForm, signIn } from "./dashboard-support";
import {
  api,
  apiJson,
  createWorkflow,
  deliverEvent,
  interceptOutbound,
  newAssetId,
  onAsset,
  runOf,
  SLACK_URL,
  type WorkflowView,
} from "./workflow-support";

let session: string;
beforeAll(async () => {
  session = await signIn();
});

const page = (path: string, status = 200) => html(getPage(path, session), status);

/** A watchdog on one asset: wait for import.complete (1 h), then Slack on a non-SUCCESS result. */
function watchdog(assetId: string) {
  return {
    name: `Watchdog ${assetId}`,
    trigger: { eventTypes: ["system.import.start"], filter: onAsset(assetId) },
    start: "wait",
    nodes: {
      wait: {
        kind: "event",
        eventTypes: ["system.import.complete"],
        timeoutSeconds: 3600,
        next: "ok",
        onTimeout: "alert",
      },
      ok: { kind: "condition", when: { field: "eventResult", op: "eq", value: "SUCCESS" }, true: null, false: "alert" },
      alert: {
        kind: "action",
        action: { type: "slack", webhook: { secret: "SLACK_WEBHOOK_URL" }, text: "stuck: {{ trigger.displayName }}" },
        next: null,
      },
    },
  };
}

/** A watchdog workflow on a fresh asset, and its run waiting for the import to complete. */
async function waitingRun() {
  const assetId = newAssetId("0oa");
  const workflow = await createWorkflow(watchdog(assetId));
  const start = await deliverEvent({ eventType: "system.import.start", assetId });
  const run = await runOf(workflow.id, start.uuid, ["waiting"]);
  return { assetId, workflow, start, run };
}

describe("events pages", () => {
  it("lists events with their Event Fields and display names, escaping what Okta sent", async () => {
    const assetId = newAssetId();
    const hostile = "<img src=x onerror=alert(1)>";
    await deliverEvent({
      eventType: "system.api_token.create",
      target: [{ id: assetId, type: "Token", alternateId: "a&b", displayName: hostile }],
    });
    const text = await page(`/events?id=${assetId}`);
    expect(text).toContain("API token created");
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(text).not.toContain(hostile);
    expect(text).toContain("a&amp;b");
  });

  it("filters by Event Result", async () => {
    const assetId = newAssetId();
    await deliverEvent({ eventType: "system.import.complete", assetId, result: "FAILURE" });
    await deliverEvent({ eventType: "system.import.complete", assetId, result: "SUCCESS" });
    const failed = await page(`/events?id=${assetId}&result=FAILURE`);
    expect(failed.match(/data-key=/g)?.length).toBe(1);
    expect(failed).toContain(">FAILURE<");
    expect(await page(`/events?id=${assetId}&result=`)).toMatch(/(data-key=[\s\S]*){2}/);
  });

  it("shows an event's raw JSON and the runs it started and resumed", async () => {
    const { assetId, workflow, start } = await waitingRun();
    const complete = await deliverEvent({ eventType: "system.import.complete", assetId });
    const run = await runOf(workflow.id, start.uuid);
    expect(run.status).toBe("completed");

    const started = await page(`/events/${start.uuid}`);
    expect(started).toContain(`/runs/${run.id}`);
    expect(started).toContain(">started<");
    expect(started).toContain("json-viewer");
    const resumed = await page(`/events/${complete.uuid}`);
    expect(resumed).toContain(`/runs/${run.id}`);
    expect(resumed).toContain("resumed at wait");
    await page("/events/no-such-event", 404);
  });
});

describe("links to an id holding ?, # and /", () => {
  /** The hrefs of a page as a browser reads them (attribute entities decoded). */
  const hrefs = (text: string) =>
    [...text.matchAll(/href="([^"]*)"/g)].map((m) =>
      (m[1] ?? "").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&"),
    );
  /** Follows the one link on `text` to an event page, resolved as a browser would (query and fragment split off). */
  async function followToEvent(text: string): Promise<string> {
    const links = hrefs(text).filter((href) => href.startsWith("/events/"));
    expect(links).toHaveLength(1);
    const url = new URL(links[0] ?? "", "http://worker.test");
    return page(url.pathname + url.search);
  }

  it("an event's uuid stays one path segment: list, run and asset pages link to its own page", async () => {
    const assetId = newAssetId("0oa");
    const workflow = await createWorkflow(watchdog(assetId));
    const uuid = `evt?x=1#frag/${crypto.randomUUID()}`;
    await deliverEvent({ eventType: "system.import.start", assetId, uuid });
    const run = await runOf(workflow.id, uuid, ["waiting"]);
    const runLink = `href="/runs/${run.id}"`;

    for (const from of [`/events?id=${assetId}`, `/runs/${run.id}`, `/assets/${assetId}`]) {
      const eventPage = await followToEvent(await page(from));
      // The page of this event: the run it started is listed there.
      expect(eventPage, from).toContain(runLink);
      expect(eventPage, from).toContain(">started<");
    }
  });
});

describe("runs pages", () => {
  it("shows a waiting run with what it waits for, lets it be terminated, and lists it with its Structure", async () => {
    const { assetId, workflow, run } = await waitingRun();

    const waiting = await page(`/runs/${run.id}`);
    expect(waiting).toContain("Import complete");
    expect(waiting).toContain(`/assets/${assetId}`);
    expect(waiting).toContain("state-waiting");
    expect(waiting).toContain("Terminate run");

    const asset = await page(`/assets/${assetId}`);
    expect(asset).toContain(`/runs/${run.id}`);
    expect(await page("/assets")).toContain(`href="/assets/${assetId}"`);

    const terminated = await postForm(`/runs/${run.id}/terminate`, {}, session);
    expect(terminated.status).toBe(303);
    const after = await page(`/runs/${run.id}`);
    expect(after).toContain("status-terminated");
    expect(after).not.toContain("Terminate run");
    const again = await html(postForm(`/runs/${run.id}/terminate`, {}, session), 409);
    expect(again).toContain("run has already ended (terminated)");

    const list = await page(`/runs?workflowId=${workflow.id}`);
    expect(list).toContain(`/runs/${run.id}`);
    expect(list).toContain("step-icon kind-event");
    expect(await page(`/runs?workflowId=${workflow.id}&status=completed`)).not.toContain(`/runs/${run.id}`);
    await page("/runs?status=bogus", 400);
  });

  it("highlights the path a completed run took", async () => {
    const { assetId, workflow, start } = await waitingRun();
    await deliverEvent({ eventType: "system.import.complete", assetId });
    const run = await runOf(workflow.id, start.uuid);
    const text = await page(`/runs/${run.id}`);
    // trigger → wait → ok → end are taken; the alert action is not.
    expect(text.match(/class="edge taken"/g)?.length).toBe(3);
    expect(text).toMatch(/class="node kind-action state-idle" data-node="alert"/);
    expect(text).toMatch(/class="node kind-condition state-visited" data-node="ok"/);
  });
});

describe("workflow pages", () => {
  it("creates a workflow from an example through the editor", async () => {
    const form = await page("/workflows/new?example=import-watchdog");
    const definition = /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(form)?.[1] ?? "";
    const text = definition.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
    const res = await postForm("/workflows/new", { definition: text, intent: "save" }, session);
    expect(res.status).toBe(303);
    const id = (res.headers.get("location") ?? "").split("/")[2] ?? "";
    const saved = await apiJson<WorkflowView>("GET", `/api/workflows/${id}`);
    expect(saved.name).toBe("Import watchdog");
    expect(await page(`/workflows/${id}`)).toContain("kind-event");
    // The example triggers on every import; later tests' imports must not start its runs (and post to Slack).
    expect((await api("DELETE", `/api/workflows/${id}?force=true`)).status).toBe(204);
  });

  it("lists every problem at its line and column, and saves nothing", async () => {
    const broken = '{\n  "name": "",\n  "trigger": {"eventTypes": ["system.nope"]},\n  "start": null\n}';
    const res = await postForm("/workflows/new", { definition: broken, intent: "save" }, session);
    const text = await html(res, 400);
    expect(text).toContain("line 2, column 3");
    expect(text).toContain("line 3, column 30");
    expect(text).toContain("unknown event type");
    const syntax = await html(
      postForm("/workflows/new", { definition: '{\r\n  "name": "x",\r\n}', intent: "validate" }, session),
      400,
    );
    expect(syntax).toContain("line 3, column 1");
    expect(syntax).toContain("JSON: PropertyNameExpected");
    const list = await apiJson<{ workflows: Array<{ name: string }> }>("GET", "/api/workflows");
    expect(list.workflows.map((w) => w.name)).not.toContain("");
  });

  it("saves a new version, shows the diff, and enables and disables", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(watchdog(assetId));
    const changed = { ...watchdog(assetId), name: "Renamed watchdog" };
    const res = await postForm(
      `/workflows/${workflow.id}/edit`,
      { definition: JSON.stringify(changed), intent: "save" },
      session,
    );
    expect(res.status).toBe(303);
    const diff = await page(`/workflows/${workflow.id}/versions/2`);
    expect(diff).toContain('<span class="removed">-   &quot;name&quot;: &quot;Watchdog');
    expect(diff).toContain('<span class="added">+   &quot;name&quot;: &quot;Renamed watchdog&quot;');
    expect((await postForm(`/workflows/${workflow.id}/disable`, {}, session)).status).toBe(303);
    expect((await apiJson<WorkflowView>("GET", `/api/workflows/${workflow.id}`)).enabled).toBe(false);
    expect((await postForm(`/workflows/${workflow.id}/enable`, {}, session)).status).toBe(303);
    expect((await apiJson<WorkflowView>("GET", `/api/workflows/${workflow.id}`)).enabled).toBe(true);
    expect(await page("/workflows")).toContain("Renamed watchdog");
  });

  it("dry-runs a definition against stored events: the path and the request, no send, no secret", async () => {
    const outbound = interceptOutbound();
    const assetId = newAssetId("0oa");
    const start = await deliverEvent({ eventType: "system.import.start", assetId });
    const failed = await deliverEvent({ eventType: "system.import.complete", assetId, result: "FAILURE" });
    const fields = { definition: JSON.stringify(watchdog(assetId)), intent: "test", triggerUuid: start.uuid };
    const text = await html(postForm("/workflows/new", { ...fields, resumeUuid: failed.uuid }, session));
    expect(text).toContain("resumed by the resume event");
    expect(text).toContain("→ false");
    expect(text).toContain("Would send <strong>POST</strong> Slack webhook (SLACK_WEBHOOK_URL)");
    expect(text).toContain("stuck: example.local");
    expect(text).not.toContain(SLACK_URL);
    expect(text).not.toContain("test-slack-secret");
    expect(outbound.to(SLACK_URL)).toEqual([]);

    const timeout = await html(postForm("/workflows/new", fields, session));
    expect(timeout).toContain("no matching event given: timeout path");
    const other = await deliverEvent({ eventType: "system.api_token.create" });
    const untriggered = await html(postForm("/workflows/new", { ...fields, triggerUuid: other.uuid }, session));
    expect(untriggered).toContain("does not match the trigger");
    expect(outbound.to(SLACK_URL)).toEqual([]);
    outbound.restore();
  });
});

describe("overview and catalogue", () => {
  it("shows the counts and the 13 types", async () => {
    const overview = await page("/");
    expect(overview).toContain("Runs waiting now");
    expect(overview).toContain("Import roadblocks");
    const catalogue = await page("/catalogue");
    expect(catalogue.match(/<td class="code">[a-z_]+\.[a-z_.]+<\/td>/g)?.length).toBe(13);
    expect(catalogue).toContain("eventTimestamp");
  });
});

describe("the API behind the dashboard", () => {
  it("GET /api/overview counts runs by status and names the waiting runs' soonest deadline", async () => {
    await waitingRun();
    const overview = await apiJson<{
      eventsByType: Array<{ eventType: string; count: number }>;
      runsByStatus: Array<{ status: string; count: number }>;
      waiting: { count: number; soonest: string | null };
      lastDeliveryAt: string | null;
    }>("GET", "/api/overview");
    expect(overview.eventsByType.find((row) => row.eventType === "system.import.start")?.count).toBeGreaterThan(0);
    expect(overview.runsByStatus.find((row) => row.status === "waiting")?.count).toBeGreaterThan(0);
    expect(overview.waiting.count).toBeGreaterThan(0);
    expect(Date.parse(overview.waiting.soonest ?? "")).toBeGreaterThan(Date.now());
    expect(overview.lastDeliveryAt).not.toBeNull();
  });

  it("GET /api/events/{uuid}/runs names the runs an event started and resumed", async () => {
    const { assetId, workflow, start } = await waitingRun();
    const complete = await deliverEvent({ eventType: "system.import.complete", assetId });
    const run = await runOf(workflow.id, start.uuid);
    const started = await apiJson<{ runs: Array<{ runId: string; how: string; nodeId: string | null }> }>(
      "GET",
      `/api/events/${start.uuid}/runs`,
    );
    expect(started.runs).toEqual([expect.objectContaining({ runId: run.id, how: "started", nodeId: null })]);
    const resumed = await apiJson<{ runs: Array<{ runId: string; how: string; nodeId: string | null }> }>(
      "GET",
      `/api/events/${complete.uuid}/runs`,
    );
    expect(resumed.runs).toEqual([expect.objectContaining({ runId: run.id, how: "resumed", nodeId: "wait" })]);
    await apiJson("GET", "/api/events/no-such-event/runs", undefined, 404);
  });
});
