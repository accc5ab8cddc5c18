/**
 * Runs one seed's schedule through the Worker's own entry points: the hook (fetch),
 * the queue handler on batches the simulator builds, and the cron, with the fault
 * wrappers in place; then lets the system heal (faults off, cron passes further and
 * further on) and hands back what D1 and the outside world saw.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../../tools/local-okta/builders";
import { api, apiJson } from "../workflow-support";
import { capturingQueue, FaultPlan, faultyD1, faultyRooms, type Pending } from "./faults";
import { Rng } from "./prng";
import { CREATE, type Delivery, NEVER, REVOKE, type Schedule, type Source } from "./schedule";

const MINUTE = 60_000;
/** Queues' max_retries (vitest.config.ts): past it a message goes to the dead-letter queue. */
const MAX_ATTEMPTS = 10;

export interface OutboundCall {
  url: string;
  key: string | null;
  at: number;
}

/** The seed's workflows, by role; their ids once created. */
export interface Workflows {
  one: string;
  cond: string;
  wait: string;
  expires: string;
}

export const endpoint = (seed: number, name: string) => `https://sim-${seed}-${name}.example.test/`;

function definitions(s: Schedule) {
  const on = { field: "id", op: "startsWith", value: s.prefix };
  const call = (name: string) => ({
    kind: "action",
    action: { type: "http", method: "POST", url: endpoint(s.seed, name), retries: 0 },
  });
  const tag = `${s.seed} ${crypto.randomUUID()}`;
  return {
    one: {
      name: `sim one ${tag}`,
      trigger: { eventTypes: [CREATE], filter: on },
      start: "a",
      nodes: { a: call("one") },
    },
    cond: {
      name: `sim cond ${tag}`,
      trigger: { eventTypes: [CREATE], filter: on },
      start: "c",
      nodes: {
        c: { kind: "condition", when: { field: "eventResult", op: "eq", value: "SUCCESS" }, true: "yes", false: "no" },
        yes: call("yes"),
        no: call("no"),
      },
    },
    wait: {
      name: `sim wait ${tag}`,
      trigger: { eventTypes: [CREATE], filter: on },
      start: "w",
      nodes: {
        w: { kind: "event", eventTypes: [REVOKE], timeoutSeconds: 3600, next: "after", onTimeout: "late" },
        after: call("after"),
        late: call("late"),
      },
    },
    expires: {
      name: `sim expires ${tag}`,
      trigger: { eventTypes: [CREATE], filter: on },
      start: "w",
      nodes: { w: { kind: "event", eventTypes: [NEVER], timeoutSeconds: 60, onTimeout: "gone" }, gone: call("gone") },
    },
  };
}

export async function createWorkflows(s: Schedule): Promise<Workflows> {
  const defs = definitions(s);
  const ids: Record<string, string> = {};
  for (const [role, def] of Object.entries(defs)) {
    ids[role] = (await apiJson<{ id: string }>("POST", "/api/workflows", def, 201)).id;
  }
  return ids as unknown as Workflows;
}

export async function deleteWorkflows(workflows: Workflows): Promise<void> {
  for (const id of Object.values(workflows)) {
    const res = await api("DELETE", `/api/workflows/${id}?force=true`);
    if (res.status !== 204) throw new Error(`deleting workflow ${id}: HTTP ${res.status}`);
  }
}

const HEADERS: Record<string, (source: Source) => Record<string, string>> = {
  null: () => oktaHeaders("test-hook-secret"),
  acme: () => oktaHeaders("acme-hook-secret"),
  globex: () => ({ "content-type": "application/json", "X-Globex-Hook": "globex-hook-secret" }),
};

function hookRequest(delivery: Delivery): Request {
  const url =
    delivery.source === null ? "http://worker.test/hooks/okta" : `http://worker.test/hooks/okta/${delivery.source}`;
  const body = oktaDelivery(
    delivery.events.map((e) => ({
      ...oktaEvent({ eventType: e.eventType, assetId: e.assetId, result: e.result, published: new Date(e.published) }),
      uuid: e.uuid,
    })),
    { eventId: delivery.eventId },
  );
  return new Request(url, {
    method: "POST",
    headers: HEADERS[String(delivery.source)]?.(delivery.source),
    body: JSON.stringify(body),
  });
}

export interface Outcome {
  workflows: Workflows;
  injected: Record<string, number>;
  terminated: string[];
  /** Deliveries Okta saw answered 200 (the rest it would retry; the simulator does, until one is). */
  accepted: number;
}

/** One seed, start to end. `calls` is the outbound record the test's interceptor keeps. */
export async function runSchedule(s: Schedule, workflows: Workflows): Promise<Outcome> {
  const rng = new Rng(s.seed ^ 0x5bd1e995);
  const plan = new FaultPlan(s.faults, rng);
  const pending: Pending[] = [];
  const faulty = (): Partial<Env> => ({
    DB: faultyD1(plan),
    EVENTS: capturingQueue(plan, pending),
    WAIT_ROOMS: faultyRooms(plan),
  });
  const terminated: string[] = [];
  let accepted = 0;

  const post = async (delivery: Delivery) => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ctx = createExecutionContext();
      const res = await Promise.resolve(worker.fetch(hookRequest(delivery), { ...env, ...faulty() }, ctx)).catch(
        () => null,
      );
      await waitOnExecutionContext(ctx).catch(() => {});
      if (res?.status === 200) {
        accepted += 1;
        return;
      }
    }
    throw new Error(`seed ${s.seed}: Okta's delivery ${delivery.eventId} was refused 10 times`);
  };

  /** Delivers one batch of held messages to the queue handler, as Queues would. */
  const pumpOnce = async (): Promise<boolean> => {
    if (pending.length === 0) return false;
    if (plan.active && plan.has("reorder")) pending.splice(0, pending.length, ...rng.shuffle(pending));
    const taken = pending.splice(0, rng.int(1, 20));
    const batchOf: Pending[] = [];
    for (const message of taken) {
      const fault = plan.hit("delivery", ["msg-loss", "msg-dup"]);
      if (fault === "msg-loss") continue;
      batchOf.push(message);
      if (fault === "msg-dup") pending.push({ ...message });
    }
    if (batchOf.length === 0) return true;
    plan.crashed = false;
    const batch = createMessageBatch(
      "okta-events",
      batchOf.map((m) => ({ id: m.id, timestamp: new Date(), attempts: m.attempts, body: m.body })),
    );
    const ctx = createExecutionContext();
    let threw = false;
    await worker.queue(batch, { ...env, ...faulty() }, ctx).catch(() => {
      threw = true;
    });
    const result = await getQueueResult(batch, ctx).catch(() => null);
    const retried = new Set((result?.retryMessages ?? []).map((m) => m.msgId));
    for (const message of batchOf) {
      // A dead invocation settles nothing: Queues delivers its whole batch again.
      const again = threw || plan.crashed || !result || retried.has(message.id);
      if (!again) continue;
      if (message.attempts >= MAX_ATTEMPTS) await toDeadLetters(message);
      else pending.push({ ...message, attempts: message.attempts + 1 });
    }
    return true;
  };

  const pump = async (rounds = 300) => {
    for (let i = 0; i < rounds && (await pumpOnce()); i++) {
      if (plan.has("terminate") && plan.active && i === (s.faults.find((f) => f.kind === "terminate")?.at ?? 0)) {
        await terminateOne(workflows, terminated);
      }
    }
  };

  // The cron's clock never runs backwards: a late pass moves every later one on with it.
  let cronClock = Date.now();
  const cron = async (after: number) => {
    cronClock = Math.max(cronClock, Date.now()) + after;
    const at = cronClock;
    const ctx = createExecutionContext();
    await worker
      .scheduled(
        { scheduledTime: at, cron: "* * * * *", noRetry: () => {} } as ScheduledController,
        { ...env, ...faulty() },
        ctx,
      )
      .catch(() => {});
    await waitOnExecutionContext(ctx).catch(() => {});
  };

  for (const delivery of s.deliveries) {
    await post(delivery);
    if (rng.chance(0.5)) await pumpOnce();
  }
  await pump();
  // A cron pass while the faults still hold (unless the cron is the fault).
  if (!plan.has("cron-missing")) await cron(plan.has("cron-late") ? 3 * 60 * MINUTE : 2 * MINUTE);
  await pump();
  // Heal: faults off; time moves on for the cron (lost messages, stalled runs, lost waits).
  const injected = { ...plan.injected };
  plan.active = false;
  for (const minutes of [16, 16, 16, 16, 16, 20, 30]) {
    // The engine reads the real clock, which the simulator cannot move: the leases a dead
    // or faulted consumer left (5 minutes) run out as the cron's clock says they would.
    await expireLeases(workflows);
    await cron(minutes * MINUTE);
    await pump();
  }
  return { workflows, injected, terminated, accepted };
}

/** Queues moves a message past its last retry to the dead-letter queue; the Worker records it. */
async function toDeadLetters(message: Pending): Promise<void> {
  const batch = createMessageBatch("okta-events-dlq", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: message.body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
}

async function expireLeases(workflows: Workflows): Promise<void> {
  await env.DB.prepare(
    "update runs set lease_until = ? where lease_until is not null and workflow_id in (select value from json_each(?))",
  )
    .bind(new Date(Date.now() - 1).toISOString(), JSON.stringify(Object.values(workflows)))
    .run();
}

async function terminateOne(workflows: Workflows, terminated: string[]): Promise<void> {
  const { results } = await env.DB.prepare(
    "select id from runs where workflow_id in (select value from json_each(?)) and status in ('running', 'waiting') limit 1",
  )
    .bind(JSON.stringify(Object.values(workflows)))
    .all<{ id: string }>();
  const id = results[0]?.id;
  if (!id) return;
  await apiJson("POST", `/api/runs/${id}/terminate`);
  terminated.push(id);
}
