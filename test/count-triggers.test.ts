/**
 * Threshold triggers (counts over windows) through real deliveries, the real queue
 * consumer and real EventCounters: the count-th event fires once, a repeat counts
 * once, events in one delivery, distinct counts, two Okta orgs, a counter that cannot
 * be reached (the event is retried, not lost), and definitions refused at their paths.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { CountRequest } from "../src/durable/event-counter";
import { counterName } from "../src/engine/count-triggers";
import {
  api,
  apiJson,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  deliver,
  deliverToSource,
  interceptOutbound,
  runIdsFor,
  SLACK_URL,
  storeWithoutEnqueue,
  until,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

const SMS = "system.sms.send_phone_verification_message";
const TOKEN = "system.api_token.create";
const MINUTE = 60_000;

interface CountedView {
  key: string;
  n: number;
  by: string;
  distinct: string | null;
  events: Array<{ uuid: string; value: string | null }>;
}

/** A workflow that records each window it sees as a completed run (no nodes). */
function counting(threshold: Record<string, unknown>, eventTypes = [SMS], filter?: unknown) {
  return createWorkflow({
    name: `count test ${crypto.randomUUID()}`,
    trigger: { eventTypes, ...(filter ? { filter } : {}), threshold },
    start: null,
  });
}

async function runsOf(workflowId: string): Promise<Array<{ id: string; trigger_event_uuid: string; counted: string }>> {
  const { results } = await env.DB.prepare(
    "select id, trigger_event_uuid, counted from runs where workflow_id = ? order by started_at",
  )
    .bind(workflowId)
    .all<{ id: string; trigger_event_uuid: string; counted: string }>();
  return results;
}

/** A fresh client IP per call (IPv6 documentation prefix): no two keys of a test collide. */
let ips = 0;
const ip = () => `2001:db8::${(++ips).toString(16)}:${crypto.randomUUID().slice(0, 4)}`;
const deniedSms = (ipAddress: string, minutesAgo: number) =>
  buildEvent({ eventType: SMS, result: "DENY", ipAddress, published: new Date(Date.now() - minutesAgo * MINUTE) });

describe("counts over windows", () => {
  it("five denied verification SMS from one IP within ten minutes start one run, carrying the five", async () => {
    const workflow = await counting({ count: 5, withinSeconds: 600, by: "client.ipAddress" }, [SMS], {
      field: "eventResult",
      op: "eq",
      value: "DENY",
    });
    const from = ip();
    const sms = [9, 7, 5, 3].map((m) => deniedSms(from, m));
    for (const event of sms) await deliver([event]);
    // Another IP, and an allowed SMS from this one, are not counted.
    const other = deniedSms(ip(), 2);
    const allowed = buildEvent({ eventType: SMS, result: "SUCCESS", ipAddress: from });
    await deliver([other, allowed]);
    await consumed(allowed.uuid);
    expect(await runsOf(workflow.id)).toHaveLength(0);

    const fifth = deniedSms(from, 1);
    await deliver([fifth]);
    await consumed(fifth.uuid);
    const runs = await runsOf(workflow.id);
    expect(runs.map((r) => r.trigger_event_uuid)).toEqual([fifth.uuid]);
    const run = await apiJson<{ status: string; counted: CountedView }>("GET", `/api/runs/${runs[0]?.id}`);
    expect(run.status).toBe("completed");
    expect(run.counted).toMatchObject({ key: from, n: 5, by: "client.ipAddress", distinct: null });
    expect(run.counted.events.map((e) => e.uuid)).toEqual([...sms, fifth].map((e) => e.uuid));

    // The events are used up: a sixth starts nothing; a redelivery of the fifth starts nothing twice.
    const sixth = deniedSms(from, 0);
    await deliver([sixth]);
    await deliver([fifth]);
    await consumed(sixth.uuid);
    expect(await runsOf(workflow.id)).toHaveLength(1);
  });

  it("counts a repeated event once, and the events of one delivery together", async () => {
    const workflow = await counting({ count: 3, withinSeconds: 600, by: "client.ipAddress" });
    const from = ip();
    const first = deniedSms(from, 3);
    await deliver([first]);
    await deliver([first]);
    await consume([await storeWithoutEnqueue({ eventType: SMS, ipAddress: ip() })]);
    await consumed(first.uuid);
    expect(await runsOf(workflow.id)).toHaveLength(0);
    const second = deniedSms(from, 2);
    const third = deniedSms(from, 1);
    const fourth = deniedSms(from, 0);
    await deliver([second, third, fourth]);
    await consumed(fourth.uuid);
    const runs = await runsOf(workflow.id);
    expect(runs.map((r) => r.trigger_event_uuid)).toEqual([third.uuid]);
  });

  it("counts distinct values: API tokens created by three distinct admins within an hour", async () => {
    const workflow = await counting({ count: 3, withinSeconds: 3600, by: "type", distinct: "actor.id" }, [TOKEN]);
    const admin = (id: string) => ({ id, type: "User", alternateId: `${id}@example.com`, displayName: id });
    const by = (actor: string, minutesAgo: number) =>
      buildEvent({ eventType: TOKEN, actor: admin(actor), published: new Date(Date.now() - minutesAgo * MINUTE) });
    const a1 = by(`a-${crypto.randomUUID()}`, 40);
    const a2 = { ...by("x", 30), actor: a1.actor };
    const b = by(`b-${crypto.randomUUID()}`, 20);
    await deliver([a1, a2, b]);
    await consumed(b.uuid);
    expect(await runsOf(workflow.id)).toHaveLength(0);
    const c = by(`c-${crypto.randomUUID()}`, 10);
    await deliver([c]);
    await consumed(c.uuid);
    const runs = await runsOf(workflow.id);
    expect(runs).toHaveLength(1);
    const counted = JSON.parse(runs[0]?.counted ?? "null") as CountedView;
    expect(counted).toMatchObject({ key: "Token", n: 3, distinct: "actor.id" });
    expect(counted.events.map((e) => e.uuid)).toEqual([a1.uuid, b.uuid, c.uuid]);
  });

  it("keeps the same IP in two Okta orgs apart", async () => {
    const workflow = await counting({ count: 2, withinSeconds: 600, by: "client.ipAddress" });
    const from = ip();
    const acme = deniedSms(from, 2);
    const globex = deniedSms(from, 1);
    await deliverToSource("acme", [acme]);
    await deliverToSource("globex", [globex]);
    await consumed(acme.uuid);
    await consumed(globex.uuid);
    expect(await runsOf(workflow.id)).toHaveLength(0);
    const acme2 = deniedSms(from, 0);
    await deliverToSource("acme", [acme2]);
    await consumed(acme2.uuid);
    expect((await runsOf(workflow.id)).map((r) => r.trigger_event_uuid)).toEqual([acme2.uuid]);
  });

  it("retries an event whose counter cannot be reached, and then counts it once", async () => {
    const workflow = await counting({ count: 2, withinSeconds: 600, by: "client.ipAddress" });
    const from = ip();
    const first = await storeWithoutEnqueue({ eventType: SMS, ipAddress: from });
    await consume([first]);
    const second = await storeWithoutEnqueue({ eventType: SMS, ipAddress: from });
    const unreachable = {
      idFromName: (name: string) => env.EVENT_COUNTERS.idFromName(name),
      get: () => ({
        count: () => Promise.reject(new Error("Durable Object reset because its code was updated")),
      }),
    } as unknown as DurableObjectNamespace;
    const failed = await consume([second], { EVENT_COUNTERS: unreachable } as never);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages.map((m) => m.msgId)).toEqual(failed.ids);
    const row = await env.DB.prepare("select consumed_at from events where uuid = ?").bind(second.uuid).first();
    expect(row?.consumed_at).toBeNull();
    expect(await runsOf(workflow.id)).toHaveLength(0);
    // The retry, twice over: one run.
    await consume([second]);
    await consume([second]);
    expect((await runsOf(workflow.id)).map((r) => r.trigger_event_uuid)).toEqual([second.uuid]);
    expect(await runIdsFor(workflow.id, second.uuid)).toHaveLength(1);
  });

  it("names each counter by workflow, org and key, so no key can be read as another", () => {
    expect(counterName("w", "acme", "a")).not.toBe(counterName("w", null, "a"));
    expect(counterName("w", "a", "b,c")).not.toBe(counterName("w", "a,b", "c"));
  });
});

describe("threshold definitions", () => {
  const refused = async (trigger: Record<string, unknown>, nodes: Record<string, unknown> = {}) => {
    const res = await api("POST", "/api/workflows", {
      name: "bad threshold",
      trigger: { eventTypes: [SMS], ...trigger },
      start: Object.keys(nodes)[0] ?? null,
      nodes,
    });
    expect(res.status).toBe(400);
    return ((await res.json()) as { error: { message: string } }).error.message;
  };

  it("are refused at the exact path", async () => {
    expect(await refused({ threshold: { count: 1, withinSeconds: 60 } })).toMatch(/trigger\.threshold\.count/);
    expect(await refused({ threshold: { count: 5, withinSeconds: 90_000 } })).toMatch(
      /trigger\.threshold\.withinSeconds/,
    );
    expect(await refused({ threshold: { count: 5, withinSeconds: 60, by: "client.ip" } })).toMatch(
      /trigger\.threshold\.by: unknown count path "client\.ip"; one of .*client\.ipAddress/,
    );
    expect(await refused({ threshold: { count: 5, withinSeconds: 60, every: 2 } })).toMatch(/trigger\.threshold/);
  });

  it("let only a threshold workflow read {{ count.* }}", async () => {
    const note = {
      kind: "action",
      action: { type: "http", method: "POST", url: "https://example.com/h", body: { n: "{{ count.n }}" } },
    };
    expect(await refused({}, { note })).toMatch(
      /nodes\.note\.action\.body\.n: .*only a run a threshold trigger started has a count/,
    );
    expect(
      await refused(
        { threshold: { count: 2, withinSeconds: 60 } },
        { note: { ...note, action: { ...note.action, body: { n: "{{ count.total }}" } } } },
      ),
    ).toMatch(/unknown count field 'total'/);
  });
});

describe("examples/workflows/sms-toll-fraud.json", () => {
  it("alerts once in Slack for five denied SMS from one IP, and suppresses the next burst within the hour", async () => {
    const example = (await import("../examples/workflows/sms-toll-fraud.json")).default;
    const workflow = await createWorkflow({ ...example, name: `${example.name} ${crypto.randomUUID()}` });
    const from = ip();
    const burst = (minutesAgo: number[]) => minutesAgo.map((m) => deniedSms(from, m));
    const first = burst([9, 8, 7, 6, 5]);
    await deliver(first);
    await consumed((first[4] as { uuid: string }).uuid);
    const [run] = await runsOf(workflow.id);
    const detail = await until(async () => {
      const view = await apiJson<{ status: string; suppressed: { count: number } }>("GET", `/api/runs/${run?.id}`);
      return view.status === "completed" ? view : null;
    }, "the alert run to complete");
    const slack = outbound.where((call) => call.url === SLACK_URL && call.body.includes(from));
    expect(slack).toHaveLength(1);
    expect(JSON.parse(slack[0]?.body ?? "{}").text).toContain(`5 denied phone verification SMS from IP \`${from}\``);
    expect(detail.suppressed.count).toBe(0);

    const second = burst([4, 3, 2, 1, 0]);
    await deliver(second);
    await consumed((second[4] as { uuid: string }).uuid);
    expect(await runsOf(workflow.id)).toHaveLength(1);
    const after = await apiJson<{ suppressed: { count: number } }>("GET", `/api/runs/${run?.id}`);
    expect(after.suppressed.count).toBe(1);
  });
});

describe("an EventCounter", () => {
  const rule = { count: 3, withinMs: 600_000, distinct: false };
  const at = Date.now();

  it("answers a repeat of the event that fired with the same window, and whose input is checked", async () => {
    const counter = env.EVENT_COUNTERS.get(env.EVENT_COUNTERS.idFromName(`unit-${crypto.randomUUID()}`));
    const events = ["a", "b", "c"].map((uuid, i) => ({ uuid, at: at + i, value: null }));
    const first = await counter.count({ rule, events });
    expect(first.fired.map((f) => f.uuid)).toEqual(["c"]);
    const again = await counter.count({ rule, events: [events[2], events[0]] });
    expect(again.fired).toEqual(first.fired);
    // What it refuses, it refuses before counting (a throw inside a Durable Object is reported as uncaught here).
    expect(CountRequest.safeParse({ rule, events: [{ uuid: "", at, value: null }] }).success).toBe(false);
    expect(CountRequest.safeParse({ rule: { ...rule, withinMs: 0 }, events: [] }).success).toBe(false);
  });

  it("forgets everything once idle for its memory, and counts afresh after", async () => {
    const counter = env.EVENT_COUNTERS.get(env.EVENT_COUNTERS.idFromName(`idle-${crypto.randomUUID()}`));
    await counter.count({ rule, events: [{ uuid: "a", at, value: null }] });
    // An alarm before its time keeps the state (events came since it was set).
    expect(await runDurableObjectAlarm(counter)).toBe(true);
    expect(await counter.size()).toMatchObject({ open: 1, seen: 1 });
    await runInDurableObject(counter, (_, state) => {
      state.storage.sql.exec("UPDATE meta SET value = 0 WHERE key = 'idleAt'");
    });
    expect(await runDurableObjectAlarm(counter)).toBe(true);
    expect(await counter.size()).toMatchObject({ open: 0, seen: 0, fires: 0 });
    const after = await counter.count({
      rule,
      events: ["a", "b", "c"].map((uuid, i) => ({ uuid, at: at + i, value: null })),
    });
    expect(after.fired.map((f) => f.uuid)).toEqual(["c"]);
  });
});
