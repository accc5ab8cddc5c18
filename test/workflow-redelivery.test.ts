/**
 * A run message handled more than once: after a consumer crashed mid-run the queue
 * redelivers it, and a succeeded step must not run again; while a consumer still
 * holds the run, a second delivery must not execute it at the same time (the lease).
 * The consumer is driven with createMessageBatch + worker.queue beside the real one.
 */
import { env } from "cloudflare:workers";
import { afterAll, expect, it } from "vitest";
import {
  consume,
  createWorkflow,
  deliverEvent,
  gate,
  getRun,
  interceptOutbound,
  newAssetId,
  onAsset,
  post,
  runIdsFor,
  storeWithoutEnqueue,
  until,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

/** first -> second, where the first call to `second` hangs until the test opens the gate. */
async function startRunHangingInSecond() {
  const assetId = newAssetId();
  const base = `https://${crypto.randomUUID()}.example.test`;
  const hang = gate();
  let secondCalls = 0;
  outbound.on(`${base}/second`, async () => {
    secondCalls += 1;
    if (secondCalls === 1) await hang.opened;
    return new Response("ok");
  });
  const workflow = await createWorkflow({
    name: `redelivery ${assetId}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: "first",
    nodes: { first: post(`${base}/first`, "second"), second: post(`${base}/second`) },
  });
  const event = await deliverEvent({ eventType: "system.api_token.create", assetId });
  await until(async () => outbound.to(`${base}/second`).length > 0, "the second action to be called");
  const [runId = ""] = await runIdsFor(workflow.id, event.uuid);
  return { runId, base, release: hang.open };
}

it("a consumer that crashed after the first step: the redelivered run message does not repeat it", async () => {
  const { runId, base, release } = await startRunHangingInSecond();
  const before = await getRun(runId);
  expect(before.status).toBe("running");
  expect(before.steps.map((s) => [s.nodeId, s.status])).toEqual([
    ["first", "succeeded"],
    ["second", "running"],
  ]);

  // The first consumer is gone (its invocation hangs forever as far as the run knows), and its lease has run out.
  await env.DB.prepare("update runs set lease_until = ? where id = ?")
    .bind(new Date(Date.now() - 1000).toISOString(), runId)
    .run();
  const redelivered = await consume([{ kind: "run", runId }]);
  expect(redelivered.explicitAcks).toEqual(redelivered.ids);

  const run = await getRun(runId);
  expect(run.status).toBe("completed");
  expect(run.steps.map((s) => [s.seq, s.nodeId, s.status, s.attempts])).toEqual([
    [1, "first", "succeeded", 1],
    [2, "second", "succeeded", 2],
  ]);
  expect(outbound.to(`${base}/first`)).toHaveLength(1);
  // The step with no recorded end is sent again, with the same Idempotency-Key so the receiver can drop it.
  const seconds = outbound.to(`${base}/second`);
  expect(seconds).toHaveLength(2);
  expect(seconds.map((call) => call.headers["idempotency-key"])).toEqual([`${runId}:second`, `${runId}:second`]);

  // The first consumer finally returns: its lease was taken, so it writes nothing (fencing)
  // and calls nothing else. Give it a second to try.
  const secondEnded = run.steps[1]?.endedAt ?? "";
  release();
  await expect(
    until(async () => ((await getRun(runId)).steps[1]?.endedAt ?? "") !== secondEnded, "a stale write", 1500),
  ).rejects.toThrow("timed out");
  expect((await getRun(runId)).status).toBe("completed");
  expect(outbound.to(`${base}/first`)).toHaveLength(1);
  expect(outbound.to(`${base}/second`)).toHaveLength(2);
});

it("a completed run's message handed to the consumer again executes nothing", async () => {
  const { runId, base, release } = await startRunHangingInSecond();
  release();
  await until(async () => (await getRun(runId)).status === "completed", "the run to complete");
  const again = await consume([{ kind: "run", runId }]);
  expect(again.explicitAcks).toEqual(again.ids);
  expect(outbound.to(`${base}/first`)).toHaveLength(1);
  expect(outbound.to(`${base}/second`)).toHaveLength(1);
});

it("while a consumer holds the run, a second delivery of its message is retried, not executed", async () => {
  const { runId, base, release } = await startRunHangingInSecond();
  const concurrent = await consume([{ kind: "run", runId }]);
  expect(concurrent.explicitAcks).toEqual([]);
  expect(concurrent.retryMessages).toEqual([{ msgId: concurrent.ids[0] }]);
  expect(outbound.to(`${base}/second`)).toHaveLength(1);
  expect(outbound.to(`${base}/first`)).toHaveLength(1);

  release();
  await until(async () => (await getRun(runId)).status === "completed", "the run to complete");
  expect(outbound.to(`${base}/first`)).toHaveLength(1);
  expect(outbound.to(`${base}/second`)).toHaveLength(1);
});

it("three consumers advancing the same new run at once execute its action once", async () => {
  const assetId = newAssetId();
  const base = `https://${crypto.randomUUID()}.example.test`;
  const workflow = await createWorkflow({
    name: `race ${crypto.randomUUID()}`,
    trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
    start: "only",
    nodes: { only: post(`${base}/only`) },
  });
  // Starting the run puts its message on the real queue; two more deliveries of it race that one.
  const message = await storeWithoutEnqueue({ eventType: "system.api_token.create", assetId });
  await consume([message]);
  const [runId = ""] = await runIdsFor(workflow.id, message.uuid);
  const results = await Promise.all([consume([{ kind: "run", runId }]), consume([{ kind: "run", runId }])]);
  await until(async () => (await getRun(runId)).status === "completed", "the run to complete");
  expect(outbound.to(`${base}/only`)).toHaveLength(1);
  // Each delivery was either done (acked) or told to come back later (retried), never dropped.
  for (const result of results) {
    expect([...result.explicitAcks, ...result.retryMessages.map((m) => m.msgId)]).toEqual(result.ids);
  }
});
