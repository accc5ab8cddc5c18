/**
 * The eleven findings of the engine review (issue 15), one fault each, through the
 * Worker's own entry points (hook, queue handler, cron) and real local D1, Queues and
 * WaitRooms; only bindings are wrapped to inject the fault, and outbound HTTP is
 * intercepted. Each test failed on the engine before fencing (5cec95e).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { getVersions } from "../src/db/workflows";
import worker from "../src/index";
import type { QueueMessage } from "../src/queue/messages";
import { droppingQueue, runCron, unreachableRooms } from "./fault-support";
import { failingQueue } from "./support";
import {
  apiJson,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  deliver,
  deliverToSource,
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

const MINUTE = 60_000;
const CREATE = "system.api_token.create";
const REVOKE = "system.api_token.revoke";
const newEndpoint = () => `https://${crypto.randomUUID()}.example.test`;
const ENDED = ["completed", "failed", "timed_out", "terminated", "cancelled"];

/** A workflow of `nodes` started by CREATE on a fresh asset. */
async function workflowOn(nodes: Record<string, unknown>, start: string, assetId = newAssetId()) {
  const workflow = await createWorkflow({
    name: `faults ${assetId} ${crypto.randomUUID()}`,
    trigger: { eventTypes: [CREATE], filter: onAsset(assetId) },
    start,
    nodes,
  });
  return { workflowId: workflow.id, assetId };
}

const oneCall = (url: string) => ({
  call: { kind: "action", action: { type: "http", method: "POST", url, retries: 0 } },
});

/** The Worker's queue handler on one batch whose message ids the test chooses (a retry keeps its id). */
async function consumeWithIds(messages: Array<{ id: string; body: QueueMessage }>, overrides: Partial<Env> = {}) {
  const batch = createMessageBatch(
    "okta-events",
    messages.map(({ id, body }) => ({ id, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

async function onlyRun(workflowId: string, uuid: string): Promise<string> {
  return until(async () => (await runIdsFor(workflowId, uuid))[0], "the run to start");
}

async function ended(runId: string) {
  return until(async () => {
    const run = await getRun(runId);
    return ENDED.includes(run.status) ? run : null;
  }, `run ${runId} to end`);
}

const row = (sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .first<Record<string, unknown>>();

/**
 * A D1 binding that fails the first `batch()` call after the first `skip` of them
 * (before it takes effect): a D1 error mid-way through a consumer's writes.
 */
function failingBatchD1(skip = 0): D1Database {
  let batches = 0;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          batches += 1;
          if (batches === skip + 1) throw new Error("D1_ERROR: internal error (injected)");
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A D1 binding that counts the rows its statements hand back. */
function countingD1(): { db: D1Database; rows: () => number } {
  let rows = 0;
  const wrapStatement = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (prop === "all" || prop === "raw") {
          return async (...args: unknown[]) => {
            const result = await value.apply(target, args);
            rows += Array.isArray(result) ? result.length : (result.results?.length ?? 0);
            return result;
          };
        }
        return value.bind(target);
      },
    });
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, rows: () => rows };
}

describe("1. a Queues send outage", () => {
  it("failed sends do not use up an event's re-sends; once sends work it is handled", async () => {
    const base = newEndpoint();
    const { workflowId, assetId } = await workflowOn(oneCall(base), "call");
    const message = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    // Its message is lost (16 minutes on, the cron looks for it), and for ten cron passes,
    // two minutes apart, every send fails: a batch send, then the one-by-one fallback.
    const down = failingQueue();
    for (let i = 0; i < 10; i++) await runCron(Date.now() + (16 + 2 * i) * MINUTE, { EVENTS: down.queue });
    expect(down.attempts()).toBe(20);
    expect(await row("select requeue_count from events where uuid = ?", message.uuid)).toEqual({ requeue_count: 0 });
    // Sends work again: the next pass sends it, and the consumer runs its workflow.
    await runCron(Date.now() + 40 * MINUTE);
    await consumed(message.uuid);
    expect((await ended(await onlyRun(workflowId, message.uuid))).status).toBe("completed");
  });

  it("an event sent the most times and never handled becomes a dead letter, and the cron stops scanning it", async () => {
    const message = await storeWithoutEnqueue({ eventType: CREATE, assetId: newAssetId() });
    const lost = droppingQueue();
    // Each pass 16 minutes after the last: every sent message was lost.
    for (let i = 1; i <= 6; i++) await runCron(Date.now() + i * 16 * MINUTE, { EVENTS: lost.queue });
    const sends = lost.dropped.filter((body) => (body as { uuid?: string }).uuid === message.uuid).length;
    expect(sends).toBe(5);
    const letter = await row("select reason, body from dead_letters where id = ?", `abandoned:${message.uuid}`);
    expect(letter?.reason).toMatch(/re-sent this event 5 times/);
    expect(JSON.parse(String(letter?.body))).toMatchObject({ kind: "event", uuid: message.uuid });
    expect((await row("select abandoned_at from events where uuid = ?", message.uuid))?.abandoned_at).toBeTruthy();
    await runCron(Date.now() + 7 * 16 * MINUTE, { EVENTS: lost.queue });
    expect(lost.dropped.filter((body) => (body as { uuid?: string }).uuid === message.uuid)).toHaveLength(5);
    // Re-driven, it is handled, and the cron watches it again.
    await apiJson("POST", `/api/dead-letters/${encodeURIComponent(`abandoned:${message.uuid}`)}/redrive`);
    await consumed(message.uuid);
    expect(await row("select abandoned_at, requeue_count from events where uuid = ?", message.uuid)).toEqual({
      abandoned_at: null,
      requeue_count: 0,
    });
  });
});

describe("2 and 3. hostile Retry-After answers", () => {
  it("one run's Retry-After: 99999999999999 neither fails nor repeats the other runs of its batch", async () => {
    const hostile = newEndpoint();
    const fine = newEndpoint();
    outbound.on(hostile, () => new Response("later", { status: 503, headers: { "retry-after": "99999999999999" } }));
    const assetId = newAssetId();
    const a = await workflowOn(oneCall(hostile), "call", assetId);
    const b = await workflowOn(oneCall(fine), "call", assetId);
    const message = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    const result = await consume([message]);
    expect(result.explicitAcks).toHaveLength(1);
    const bRun = await getRun(await onlyRun(b.workflowId, message.uuid));
    expect(bRun.status).toBe("completed");
    // A retry of the message (as Queues would make) calls nothing again.
    await consume([message]);
    expect(outbound.to(fine)).toHaveLength(1);
    // The hostile run is deferred by the cap: an hour, not forever.
    const deferred = await row(
      "select not_before, repair_after from runs where id = ?",
      await onlyRun(a.workflowId, message.uuid),
    );
    expect(Date.parse(String(deferred?.not_before))).toBeLessThanOrEqual(Date.now() + 61 * MINUTE);
  });

  it("an HTTP-date in year 9999 defers by the cap, with every time column sortable", async () => {
    const hostile = newEndpoint();
    outbound.on(
      hostile,
      () => new Response("later", { status: 429, headers: { "retry-after": "Fri, 31 Dec 9999 23:59:59 GMT" } }),
    );
    const { workflowId, assetId } = await workflowOn(oneCall(hostile), "call");
    const message = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    await consume([message]);
    const runId = await onlyRun(workflowId, message.uuid);
    const deferred = await row("select status, not_before, repair_after, lease_until from runs where id = ?", runId);
    expect(deferred).toMatchObject({ status: "running", lease_until: null });
    expect(String(deferred?.not_before)).toMatch(/^20\d\d-/);
    expect(String(deferred?.repair_after)).toMatch(/^20\d\d-/);
    expect(Date.parse(String(deferred?.not_before))).toBeLessThanOrEqual(Date.now() + 61 * MINUTE);
    // The cron before the deferral is due hands nothing back.
    await runCron(Date.now() + 2 * MINUTE);
    expect(outbound.to(hostile)).toHaveLength(1);
  });
});

describe("4. a wait registered after its deadline", () => {
  it("times out, although an event published after the deadline is buffered", async () => {
    const afterUrl = newEndpoint();
    const timeoutUrl = newEndpoint();
    const { workflowId, assetId } = await workflowOn(
      {
        wait: { kind: "event", eventTypes: [REVOKE], timeoutSeconds: 60, next: "after", onTimeout: "late" },
        after: post(afterUrl),
        late: post(timeoutUrl),
      },
      "wait",
    );
    const trigger = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    // The WaitRoom cannot be reached: the run waits in D1 only.
    await consume([trigger], { WAIT_ROOMS: unreachableRooms() });
    const runId = await onlyRun(workflowId, trigger.uuid);
    expect((await getRun(runId)).status).toBe("waiting");
    // Its deadline passes; then an event it would accept arrives (published now, after the deadline).
    await env.DB.prepare(
      "update runs set waiting_for = json_set(waiting_for, '$.until', ?), repair_after = ? where id = ?",
    )
      .bind(new Date(Date.now() - 30_000).toISOString(), new Date(Date.now() - 1000).toISOString(), runId)
      .run();
    const revoke = buildEvent({ eventType: REVOKE, assetId });
    await deliver([revoke]);
    await consumed(revoke.uuid);
    // The cron registers the wait again: the time has decided.
    await runCron(Date.now());
    const run = await ended(runId);
    expect(run.steps.find((s) => s.nodeId === "wait")?.outcome).toBe("timeout");
    expect(outbound.to(afterUrl)).toHaveLength(0);
  });
});

describe("5. two events in the same millisecond", () => {
  it("each resumes the run once: a third wait does not take the first again", async () => {
    const doneUrl = newEndpoint();
    const { workflowId, assetId } = await workflowOn(
      {
        first: { kind: "event", eventTypes: [REVOKE], next: "second" },
        second: { kind: "event", eventTypes: [REVOKE], next: "third" },
        third: { kind: "event", eventTypes: [REVOKE], next: "done" },
        done: post(doneUrl),
      },
      "first",
    );
    const trigger = buildEvent({ eventType: CREATE, assetId });
    await deliver([trigger]);
    const runId = await onlyRun(workflowId, trigger.uuid);
    await until(async () => (await getRun(runId)).status === "waiting", "the run to wait");
    const published = new Date().toISOString();
    const twins = [
      buildEvent({ eventType: REVOKE, assetId, published }),
      buildEvent({ eventType: REVOKE, assetId, published }),
    ];
    await deliver(twins);
    await until(async () => {
      const run = await getRun(runId);
      return run.steps.find((s) => s.nodeId === "second")?.status === "succeeded" && run.status === "waiting";
    }, "the run to take both events and wait at the third");
    await runCron(Date.now());
    const run = await getRun(runId);
    expect(run.status).toBe("waiting");
    const taken = run.steps.flatMap((s) => (s.output && "eventUuid" in s.output ? [s.output.eventUuid] : []));
    expect(new Set(taken)).toEqual(new Set(twins.map((e) => e.uuid)));
    expect(outbound.to(doneUrl)).toHaveLength(0);
  });
});

describe("6. two Okta orgs with the same asset ID", () => {
  it("an event of one org never resumes a run the other org's event started", async () => {
    const nextUrl = newEndpoint();
    const { workflowId, assetId } = await workflowOn(
      { wait: { kind: "event", eventTypes: [REVOKE], next: "next" }, next: post(nextUrl) },
      "wait",
    );
    const trigger = buildEvent({ eventType: CREATE, assetId });
    await deliverToSource("acme", [trigger]);
    const runId = await onlyRun(workflowId, trigger.uuid);
    await until(async () => (await getRun(runId)).status === "waiting", "the run to wait");
    const foreign = buildEvent({ eventType: REVOKE, assetId });
    await deliverToSource("globex", [foreign]);
    await consumed(foreign.uuid);
    await runCron(Date.now());
    expect((await getRun(runId)).status).toBe("waiting");
    const own = buildEvent({ eventType: REVOKE, assetId });
    await deliverToSource("acme", [own]);
    const run = await ended(runId);
    expect(run.steps.find((s) => s.nodeId === "wait")?.output).toMatchObject({ eventUuid: own.uuid });
  });
});

describe("7. terminate while an action waits for a connection", () => {
  it("a run terminated while queued is never called; one terminated mid-call keeps its terminated step", async () => {
    const slow = gate();
    const assetId = newAssetId();
    const endpoints = Array.from({ length: 7 }, () => newEndpoint());
    const workflows: Array<{ workflowId: string; assetId: string }> = [];
    for (const url of endpoints) {
      outbound.on(url, async () => {
        await slow.opened;
        return new Response("ok");
      });
      workflows.push(await workflowOn(oneCall(url), "call", assetId));
    }
    const trigger = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    const consuming = consume([trigger]);
    // Six calls hold the six connections; the seventh run waits for one.
    await until(async () => endpoints.filter((url) => outbound.to(url).length > 0).length === 6, "six calls");
    const queued = endpoints.findIndex((url) => outbound.to(url).length === 0);
    const midCall = queued === 0 ? 1 : 0;
    const runOf = (i: number) => onlyRun(workflows[i]?.workflowId ?? "", trigger.uuid);
    await apiJson("POST", `/api/runs/${await runOf(queued)}/terminate`);
    await apiJson("POST", `/api/runs/${await runOf(midCall)}/terminate`);
    slow.open();
    await consuming;
    expect(outbound.to(endpoints[queued] ?? "")).toHaveLength(0);
    const cut = await getRun(await runOf(midCall));
    expect(cut.status).toBe("terminated");
    expect(cut.steps[0]?.status).toBe("terminated");
  });
});

describe("8. a consumer whose lease ran out", () => {
  it("stops at its next write: it neither calls the next action beside the new holder nor clears its lease", async () => {
    const first = newEndpoint();
    const second = newEndpoint();
    const staleCall = gate();
    const holderCall = gate();
    let firstCalls = 0;
    let secondCalls = 0;
    outbound.on(first, async () => {
      firstCalls += 1;
      if (firstCalls === 1) await staleCall.opened;
      return new Response("ok");
    });
    outbound.on(second, async () => {
      secondCalls += 1;
      if (secondCalls === 1) await holderCall.opened;
      return new Response("ok");
    });
    const { workflowId, assetId } = await workflowOn(
      {
        a: { kind: "action", action: { type: "http", method: "POST", url: first, retries: 0 }, next: "b" },
        b: { kind: "action", action: { type: "http", method: "POST", url: second, retries: 0 } },
      },
      "a",
    );
    const trigger = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    const stale = consume([trigger]);
    await until(async () => firstCalls === 1, "the first call");
    const runId = await onlyRun(workflowId, trigger.uuid);
    // The lease runs out while the call hangs; another delivery takes the run, repeats a
    // (same key, allowed after a lost lease) and is inside b when the stale consumer wakes.
    await env.DB.prepare("update runs set lease_until = ? where id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), runId)
      .run();
    const holder = consume([{ kind: "run", runId }]);
    await until(async () => secondCalls === 1, "the new holder inside b");
    staleCall.open();
    await stale;
    expect(secondCalls).toBe(1);
    const during = await row("select lease_owner, lease_until from runs where id = ?", runId);
    expect(during?.lease_owner).toBeTruthy();
    holderCall.open();
    await holder;
    const run = await getRun(runId);
    expect(run.status).toBe("completed");
    expect(run.steps.map((s) => [s.nodeId, s.status, s.attempts])).toEqual([
      ["a", "succeeded", 2],
      ["b", "succeeded", 1],
    ]);
    expect(outbound.to(second)).toHaveLength(1);
  });
});

describe("9. outcomes are committed as they return", () => {
  it("a fast action's outcome is in D1 while another run of its batch still hangs", async () => {
    const fast = newEndpoint();
    const hanging = newEndpoint();
    const slow = gate();
    outbound.on(hanging, async () => {
      await slow.opened;
      return new Response("ok");
    });
    const assetId = newAssetId();
    const quick = await workflowOn(oneCall(fast), "call", assetId);
    await workflowOn(oneCall(hanging), "call", assetId);
    const trigger = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    const consuming = consume([trigger]);
    try {
      const runId = await onlyRun(quick.workflowId, trigger.uuid);
      await until(async () => (await getRun(runId)).status === "completed", "the fast run to complete", 5000);
    } finally {
      slow.open();
      await consuming;
    }
  });
});

describe("10. a D1 error mid-batch", () => {
  it("the retry of the same message takes its own lease back at once and runs the run", async () => {
    const url = newEndpoint();
    const { workflowId, assetId } = await workflowOn(oneCall(url), "call");
    const trigger = await storeWithoutEnqueue({ eventType: CREATE, assetId });
    await consume([trigger]);
    const runId = await onlyRun(workflowId, trigger.uuid);
    await ended(runId);
    // Back to just before its action, with no lease: a run message will execute it.
    await env.DB.batch([
      env.DB.prepare(
        "update runs set status = 'running', ended_at = null, lease_until = null, lease_owner = null where id = ?",
      ).bind(runId),
      env.DB.prepare("delete from run_steps where run_id = ?").bind(runId),
    ]);
    const message = { id: crypto.randomUUID(), body: { kind: "run" as const, runId } };
    const failed = await consumeWithIds([message], { DB: failingBatchD1() });
    expect(failed.retryMessages.map((m) => m.msgId)).toEqual([message.id]);
    const retried = await consumeWithIds([message]);
    expect(retried.explicitAcks).toEqual([message.id]);
    expect((await getRun(runId)).status).toBe("completed");
  });
});

describe("11. a definition-cache miss", () => {
  it("reads the one version asked for, not the workflow's whole history", async () => {
    const { workflowId } = await workflowOn(oneCall(newEndpoint()), "call");
    for (let i = 0; i < 4; i++) {
      await apiJson("PUT", `/api/workflows/${workflowId}`, {
        name: `faults v${i + 2}`,
        trigger: { eventTypes: [CREATE] },
        start: "call",
        nodes: oneCall(newEndpoint()),
      });
    }
    const counting = countingD1();
    const rows = await getVersions(createDb(counting.db), [{ workflowId, version: 3 }]);
    expect(rows.map((r) => r.version)).toEqual([3]);
    expect(counting.rows()).toBe(1);
  });
});

describe("a late trigger (issue 16)", () => {
  it("its wait's deadline counts from the event's published time: past already, it times out at once", async () => {
    const timeoutUrl = newEndpoint();
    const { workflowId, assetId } = await workflowOn(
      {
        wait: { kind: "event", eventTypes: [REVOKE], timeoutSeconds: 3600, onTimeout: "late" },
        late: post(timeoutUrl),
      },
      "wait",
    );
    const trigger = buildEvent({ eventType: CREATE, assetId, published: new Date(Date.now() - 26 * 3600_000) });
    await deliver([trigger]);
    const run = await ended(await onlyRun(workflowId, trigger.uuid));
    expect(run.status).toBe("completed");
    expect(run.steps.find((s) => s.nodeId === "wait")?.outcome).toBe("timeout");
    expect(outbound.to(timeoutUrl)).toHaveLength(1);
  });
});
