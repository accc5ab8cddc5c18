/**
 * Workflow lifecycle through the admin API: versions on every save, a run pinned to
 * the version it started with, enable/disable without new versions, and delete
 * refused while runs are active unless forced (which terminates them).
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  api,
  apiJson,
  consumed,
  createWorkflow,
  deliverEvent,
  type ErrorBody,
  gate,
  getRun,
  interceptOutbound,
  newAssetId,
  onAsset,
  post,
  runIdsFor,
  runOf,
  until,
  type WorkflowView,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

const newEndpoint = () => `https://${crypto.randomUUID()}.example.test`;

function twoStep(name: string, assetId: string, base: string, eventType = "system.api_token.create") {
  return {
    name,
    trigger: { eventTypes: [eventType], filter: onAsset(assetId) },
    start: "first",
    nodes: { first: post(`${base}/first`, "second"), second: post(`${base}/second`) },
  };
}

/** Delivers a token event on the asset and says whether it started a run of the workflow. */
async function triggers(workflowId: string, assetId: string, eventType = "system.api_token.create") {
  const event = await deliverEvent({ eventType, assetId });
  await consumed(event.uuid);
  return (await runIdsFor(workflowId, event.uuid)).length > 0;
}

describe("versions", () => {
  it("create makes v1, each update a new version; every version stays readable", async () => {
    const assetId = newAssetId();
    const v1 = twoStep("versioned v1", assetId, newEndpoint());
    const created = await createWorkflow(v1);
    expect(created).toMatchObject({ name: "versioned v1", currentVersion: 1, enabled: true });
    expect(created.versions.map((v) => v.version)).toEqual([1]);

    const v2 = { ...twoStep("versioned v2", assetId, newEndpoint()), description: "second" };
    const updated = await apiJson<WorkflowView>("PUT", `/api/workflows/${created.id}`, v2);
    expect(updated).toMatchObject({ id: created.id, name: "versioned v2", currentVersion: 2 });

    const read = await apiJson<WorkflowView>("GET", `/api/workflows/${created.id}`);
    expect(read.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(read.definition).toMatchObject({ name: "versioned v2", description: "second" });

    const old = await apiJson<{ workflowId: string; version: number; definition: Record<string, unknown> }>(
      "GET",
      `/api/workflows/${created.id}/versions/1`,
    );
    expect(old).toMatchObject({ workflowId: created.id, version: 1, definition: { name: "versioned v1" } });
    expect(old.definition.nodes).toEqual(created.definition.nodes);
    expect(old.definition).not.toHaveProperty("description");

    const list = await apiJson<{ workflows: Array<{ id: string; name: string; currentVersion: number }> }>(
      "GET",
      "/api/workflows",
    );
    expect(list.workflows.find((w) => w.id === created.id)).toMatchObject({ name: "versioned v2", currentVersion: 2 });
  });

  it("an update that changes the trigger moves the trigger with it", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(twoStep("moves", assetId, newEndpoint(), "system.api_token.create"));
    await apiJson(
      "PUT",
      `/api/workflows/${workflow.id}`,
      twoStep("moves", assetId, newEndpoint(), "system.api_token.revoke"),
    );
    expect(await triggers(workflow.id, assetId, "system.api_token.create")).toBe(false);
    expect(await triggers(workflow.id, assetId, "system.api_token.revoke")).toBe(true);
  });

  it("a run keeps the version it started with when the workflow is updated meanwhile", async () => {
    const assetId = newAssetId();
    const oldBase = newEndpoint();
    const newBase = newEndpoint();
    const slow = gate();
    outbound.on(`${oldBase}/first`, async () => {
      await slow.opened;
      return new Response("ok");
    });
    const workflow = await createWorkflow(twoStep("pinned", assetId, oldBase));
    const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
    // The run is now inside v1's first action.
    await until(async () => outbound.to(`${oldBase}/first`).length > 0, "v1's first action");
    await apiJson("PUT", `/api/workflows/${workflow.id}`, {
      ...twoStep("pinned v2", assetId, newBase),
      nodes: { first: post(`${newBase}/first`, "third"), third: post(`${newBase}/third`) },
    });
    slow.open();

    const run = await runOf(workflow.id, event.uuid);
    expect(run).toMatchObject({ status: "completed", workflowVersion: 1 });
    expect(run.steps.map((s) => s.nodeId)).toEqual(["first", "second"]);
    expect(outbound.to(`${oldBase}/second`)).toHaveLength(1);
    expect(outbound.to(newBase)).toHaveLength(0);

    // The next event runs v2.
    const next = await deliverEvent({ eventType: "system.api_token.create", assetId });
    const run2 = await runOf(workflow.id, next.uuid);
    expect(run2).toMatchObject({ status: "completed", workflowVersion: 2 });
    expect(run2.steps.map((s) => s.nodeId)).toEqual(["first", "third"]);
    expect(outbound.to(`${newBase}/third`)).toHaveLength(1);
  });
});

describe("concurrent saves", () => {
  it("never lose one silently: each is a new version or a 409", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(twoStep("concurrent", assetId, newEndpoint()));
    const results = await Promise.all(
      [1, 2, 3].map((i) =>
        api("PUT", `/api/workflows/${workflow.id}`, twoStep(`concurrent ${i}`, assetId, newEndpoint())),
      ),
    );
    const saved = results.filter((res) => res.status === 200).length;
    for (const res of results.filter((r) => r.status !== 200)) {
      expect(res.status).toBe(409);
      expect((await res.json<ErrorBody>()).error.code).toBe("conflict");
    }
    expect(saved).toBeGreaterThan(0);
    const read = await apiJson<WorkflowView>("GET", `/api/workflows/${workflow.id}`);
    expect(read.versions).toHaveLength(1 + saved);
    expect(read.currentVersion).toBe(1 + saved);
  });
});

describe("enable and disable", () => {
  it("stop and restart triggering without creating versions", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(twoStep("toggled", assetId, newEndpoint()));
    expect(await triggers(workflow.id, assetId)).toBe(true);

    const disabled = await apiJson<WorkflowView>("POST", `/api/workflows/${workflow.id}/disable`);
    expect(disabled).toMatchObject({ enabled: false, currentVersion: 1 });
    expect(disabled.versions).toHaveLength(1);
    expect(await triggers(workflow.id, assetId)).toBe(false);

    const enabled = await apiJson<WorkflowView>("POST", `/api/workflows/${workflow.id}/enable`);
    expect(enabled).toMatchObject({ enabled: true, currentVersion: 1 });
    expect(enabled.versions).toHaveLength(1);
    expect(await triggers(workflow.id, assetId)).toBe(true);
  });

  it("a workflow created disabled does not trigger; one updated while disabled stays disabled", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({ ...twoStep("off", assetId, newEndpoint()), enabled: false });
    expect(workflow.enabled).toBe(false);
    expect(await triggers(workflow.id, assetId)).toBe(false);
    const updated = await apiJson<WorkflowView>(
      "PUT",
      `/api/workflows/${workflow.id}`,
      twoStep("off v2", assetId, newEndpoint()),
    );
    expect(updated).toMatchObject({ enabled: false, currentVersion: 2 });
    expect(await triggers(workflow.id, assetId)).toBe(false);
    await apiJson("POST", `/api/workflows/${workflow.id}/enable`);
    expect(await triggers(workflow.id, assetId)).toBe(true);
  });
});

describe("delete", () => {
  it("is refused with 409 while a run is active; force=true terminates the run and deletes", async () => {
    const assetId = newAssetId();
    const base = newEndpoint();
    const slow = gate();
    outbound.on(`${base}/first`, async () => {
      await slow.opened;
      return new Response("ok");
    });
    const workflow = await createWorkflow(twoStep("doomed", assetId, base));
    const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
    await until(async () => outbound.to(`${base}/first`).length > 0, "the first action");
    const [runId = ""] = await runIdsFor(workflow.id, event.uuid);

    const refused = await api("DELETE", `/api/workflows/${workflow.id}`);
    expect(refused.status).toBe(409);
    const body = await refused.json<ErrorBody>();
    expect(body).toEqual({ error: { code: "conflict", message: expect.stringContaining("force=true") } });
    expect((await api("GET", `/api/workflows/${workflow.id}`)).status).toBe(200);

    expect((await api("DELETE", `/api/workflows/${workflow.id}?force=true`)).status).toBe(204);
    expect((await getRun(runId)).status).toBe("terminated");

    // The action in flight ends; its step stays as the terminate left it, and the run
    // does not go on to the next node. Give the consumer a second and a half to try.
    slow.open();
    await expect(
      until(async () => (await getRun(runId)).steps[0]?.status !== "terminated", "a write after terminate", 1500),
    ).rejects.toThrow("timed out");
    const run = await getRun(runId);
    expect(run).toMatchObject({ status: "terminated", error: expect.any(String) });
    expect(run.steps.map((s) => s.nodeId)).toEqual(["first"]);
    expect(outbound.to(`${base}/second`)).toHaveLength(0);

    // Gone from the API and from triggering; its run stays readable.
    expect((await api("GET", `/api/workflows/${workflow.id}`)).status).toBe(404);
    const list = await apiJson<{ workflows: Array<{ id: string }> }>("GET", "/api/workflows");
    expect(list.workflows.map((w) => w.id)).not.toContain(workflow.id);
    expect(await triggers(workflow.id, assetId)).toBe(false);
  });

  it("without active runs deletes at once", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow(twoStep("quiet", assetId, newEndpoint()));
    expect((await api("DELETE", `/api/workflows/${workflow.id}`)).status).toBe(204);
    expect((await api("DELETE", `/api/workflows/${workflow.id}`)).status).toBe(404);
  });
});

describe("unknown workflows and versions", () => {
  it.each([
    ["GET", "/workflows/{id}"],
    ["PUT", "/workflows/{id}"],
    ["POST", "/workflows/{id}/enable"],
    ["POST", "/workflows/{id}/disable"],
    ["DELETE", "/workflows/{id}"],
    ["GET", "/workflows/{id}/versions/1"],
  ])("%s %s answers 404 in the error shape", async (method, path) => {
    const body = method === "PUT" ? twoStep("x", newAssetId(), newEndpoint()) : undefined;
    const res = await api(method, `/api${path.replace("{id}", crypto.randomUUID())}`, body);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: expect.any(String) } });
  });

  it("a version that does not exist is 404, a version that is not a number 400", async () => {
    const workflow = await createWorkflow(twoStep("one version", newAssetId(), newEndpoint()));
    expect((await api("GET", `/api/workflows/${workflow.id}/versions/2`)).status).toBe(404);
    expect((await api("GET", `/api/workflows/${workflow.id}/versions/latest`)).status).toBe(400);
  });
});
