/**
 * The engine's log lines, end to end: one line per batch of runs with what they did,
 * and one warning per failed run with the run's ID, and never the action's secret or
 * the event's raw payload.
 */
import { afterAll, expect, it, onTestFinished, vi } from "vitest";
import { expectLogged } from "./expected-logs";
import { createWorkflow, deliverEvent, interceptOutbound, newAssetId, onAsset, post, runOf } from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

/** The JSON lines the Worker writes with console.log during this test. */
function infoLines(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
  });
  onTestFinished(() => spy.mockRestore());
  return lines;
}

async function runWith(nodes: Record<string, unknown>, displayName: string) {
  const assetId = newAssetId();
  const workflow = await createWorkflow({
    name: `logs ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: "check",
    nodes,
  });
  const event = await deliverEvent({
    eventType: "system.api_token.create",
    target: [{ id: assetId, type: "Token", alternateId: "unknown", displayName }],
  });
  return { workflow, run: await runOf(workflow.id, String(event.uuid)) };
}

/** A condition on the result, then an http action to `base`. */
function checkThenCall(base: string) {
  return {
    check: {
      kind: "condition",
      when: { field: "eventResult", op: "eq", value: "SUCCESS" },
      true: "call",
      false: null,
    },
    call: post(`${base}/hook`),
  };
}

it("a completed run is counted in its batch's one line", async () => {
  const lines = infoLines();
  const base = `https://${crypto.randomUUID()}.example.test`;
  const { run } = await runWith(checkThenCall(base), "raw-display-name-not-for-logs");
  expect(run.status).toBe("completed");
  const batches = lines.filter((line) => line.msg === "runs executed");
  expect(batches.length).toBeGreaterThan(0);
  expect(batches.some((line) => Number(line.completed) >= 1 && Number(line.actions) >= 1)).toBe(true);
  expect(JSON.stringify(lines)).not.toContain("raw-display-name-not-for-logs");
});

it("a failed run: one warning with its ID, its node and the reason", async () => {
  const warned = expectLogged("warn", "run failed");
  const base = `https://${crypto.randomUUID()}.example.test`;
  outbound.on(base, () => new Response("no such hook", { status: 404 }));
  const { workflow, run } = await runWith(checkThenCall(base), "ci-token");
  expect(run.status).toBe("failed");
  expect(warned).toEqual([
    ["run failed", { workflowId: workflow.id, runId: run.id, nodeId: "call", reason: expect.stringContaining("404") }],
  ]);
});
