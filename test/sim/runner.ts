/**
 * Runs one seed: the Worker's own entry points (fetch for Okta deliveries and the API,
 * queue() through the sim transport, scheduled() for the cron) with the fault wrappers
 * as its bindings, on the simulated clock, until quiescent; then the invariants.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { fireDueAlarms, nextAlarm, type RoomLog, simD1, simWaitRooms } from "./bindings";
import { callFaults } from "./call-faults";
import { SimClock } from "./clock";
import { clearSeed, readEventFates, readRuns, waitRegistered, waitRoomName } from "./engine-view";
import { FaultBook } from "./fault-book";
import { checkInvariants, type Verdict } from "./invariants";
import { api, deliveryRequest } from "./okta";
import type { Outside } from "./outside";
import { rng } from "./prng";
import { type Delivery, generateSchedule, type Schedule, type ScheduleOptions, type SimEvent } from "./schedule";
import { DLQ_QUEUE, EVENTS_QUEUE, type Invoke, SimQueues } from "./transport";
import { definitionOf, SIM_WORKFLOWS, type SimWorkflow, WORKFLOW_KEYS } from "./workflows";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** How long after the last delivery the sim keeps running the cron: past any capped Retry-After we accept. */
const HORIZON_MS = 3 * 24 * HOUR;
export interface SeedResult {
  seed: number;
  schedule: Schedule;
  verdict: Verdict;
  faultsInjected: number;
  fired: Record<string, number>;
  messages: number;
  cronPasses: number;
}

/** Sim time must move forward across seeds of one file: WaitRoom alarms are absolute times. */
let nextBase = Math.ceil((Date.now() + 24 * HOUR) / MINUTE) * MINUTE;

export async function runSeed(seed: number, outside: Outside, options: ScheduleOptions = {}): Promise<SeedResult> {
  const schedule = generateSchedule(seed, crypto.randomUUID().slice(0, 6), options);
  const clock = new SimClock(nextBase);
  try {
    const result = await simulate(schedule, clock, outside);
    return result;
  } finally {
    nextBase = Math.ceil((clock.now + 24 * HOUR) / MINUTE) * MINUTE;
    SimClock.restore();
  }
}

async function simulate(schedule: Schedule, clock: SimClock, outside: Outside): Promise<SeedResult> {
  const book = new FaultBook(schedule.faults, clock, rng(schedule.seed).fork("fire"));
  const queues = new SimQueues(clock, book, rng(schedule.seed).fork("queues"));
  const rooms = new Map<string, DurableObjectId>();
  const roomLog: RoomLog = {
    names: rooms,
    reached: new Map(),
    registered: new Map(),
    rooms: new Map(),
    alarms: new Map(),
  };
  const roomEnv: Env = {
    ...env,
    EVENTS: queues.producer(EVENTS_QUEUE, "waitroom"),
    DEAD_LETTERS: queues.producer(DLQ_QUEUE, "waitroom"),
  };
  const simEnv: Env = {
    ...env,
    DB: simD1(env.DB, book, clock),
    EVENTS: queues.producer(EVENTS_QUEUE),
    DEAD_LETTERS: queues.producer(DLQ_QUEUE),
    WAIT_ROOMS: simWaitRooms(env.WAIT_ROOMS, book, roomEnv, roomLog, clock),
  };
  const abs = (t: number) => clock.base + t;
  const events: SimEvent[] = schedule.events.map((e) => ({ ...e, published: abs(e.published) }));
  const byUuid = new Map(events.map((e) => [e.uuid, e]));

  // Setup through the real bindings: the faults are the engine's, not the harness's.
  const workflows = new Map<string, SimWorkflow>();
  for (const key of WORKFLOW_KEYS) {
    const res = await api(env, "POST", "/api/workflows", definitionOf(SIM_WORKFLOWS[key], schedule.prefix));
    if (res.status !== 201) throw new Error(`creating workflow ${key}: ${res.status} ${await res.text()}`);
    workflows.set(((await res.json()) as { id: string }).id, SIM_WORKFLOWS[key]);
  }

  let cronPasses = 0;
  let nested = false;
  /** Work an invocation started beside itself (a second consumer during a slow call): it ends before the invocation does. */
  const background: Promise<void>[] = [];
  const invoke: Invoke = async (batch) => {
    const ctx = createExecutionContext();
    const outer = !nested;
    if (outer) book.startInvocation();
    let threw = false;
    try {
      await worker.queue(batch, simEnv, ctx);
      await waitOnExecutionContext(ctx);
    } catch {
      threw = true;
    }
    if (outer) await Promise.all(background.splice(0));
    return { threw, died: outer ? book.endInvocation() : false };
  };
  const drain = async () => {
    for (let i = 0; i < 200 && (await queues.deliverOne(invoke)); i++);
  };
  /**
   * A cron pass; `aheadMs` > 0 is a cron that fires early: its scheduledTime is ahead of the
   * engine's clock. The cron's clock never runs backwards (as Cloudflare's scheduledTime does
   * not): a pass after an early one is at least as late as it (c1a9291, seed 20242 of the
   * earlier simulator).
   */
  let cronAt = 0;
  const cron = async (aheadMs = 0) => {
    cronPasses += 1;
    cronAt = Math.max(cronAt, clock.now + aheadMs);
    const ctx = createExecutionContext();
    const controller = createScheduledController({ scheduledTime: cronAt, cron: "* * * * *" });
    await worker.scheduled(controller, simEnv, ctx).catch(() => undefined);
    await waitOnExecutionContext(ctx).catch(() => undefined);
  };
  const alarms = async () => {
    for (let i = 0; i < 5 && (await fireDueAlarms(env.WAIT_ROOMS, roomLog, roomEnv, clock.now)) > 0; i++) await drain();
  };

  /** The second consumer of finding 8: the cron and the queue for 20 simulated minutes, beside the first. */
  const secondConsumer = async () => {
    nested = true;
    const saved = book.suspend();
    try {
      for (let i = 0; i < 20; i++) {
        clock.set(clock.now + MINUTE);
        await cron();
        await drain();
        await alarms();
      }
    } finally {
      book.resume(saved);
      nested = false;
    }
  };
  const responder = callFaults({
    schedule,
    book,
    outside,
    background,
    secondConsumer,
    inSecondConsumer: () => nested,
    runs: () => readRuns(env.DB, [...workflows.keys()]),
    clock,
    terminate: async (runId) => {
      const saved = book.suspend();
      await api(simEnv, "POST", `/api/runs/${runId}/terminate`).finally(() => book.resume(saved));
    },
  });
  outside.reset(clock, responder);

  // Okta: each delivery, retried (same eventId) after a minute while it is not answered 200.
  const accepted = new Set<string>();
  const acceptedAt = new Map<string, number>();
  const agenda: Array<Delivery & { tries: number }> = schedule.deliveries.map((d) => ({ ...d, tries: 0 }));
  const deliver = async (d: Delivery & { tries: number }) => {
    const request = deliveryRequest(d, byUuid, clock.now);
    const ctx = createExecutionContext();
    const res = await Promise.resolve(worker.fetch(request, simEnv, ctx)).catch(
      () => new Response("thrown", { status: 599 }),
    );
    await waitOnExecutionContext(ctx).catch(() => undefined);
    if (res.status === 200)
      for (const uuid of d.uuids) {
        accepted.add(uuid);
        if (!acceptedAt.has(uuid)) acceptedAt.set(uuid, clock.now);
      }
    else if (d.tries < 3) agenda.push({ ...d, at: d.at + MINUTE * (d.tries + 1), tries: d.tries + 1 });
  };

  // The main loop: the next of a delivery, a visible message and the cron's minute.
  let nextCron = MINUTE;
  let elapsed = 0;
  const horizon = schedule.end + HORIZON_MS;
  while (elapsed < horizon) {
    agenda.sort((a, b) => a.at - b.at);
    const due = [queues.nextVisible(), nextAlarm(roomLog)].flatMap((t) => (t === undefined ? [] : [t - clock.base]));
    const next = Math.min(agenda[0]?.at ?? Number.POSITIVE_INFINITY, nextCron, ...due);
    const jump = book.clockJump(elapsed, next);
    // The clock has ticked on past `elapsed` with every statement and call: never go back.
    elapsed = Math.max(clock.elapsed, next) + jump;
    clock.set(abs(elapsed));
    // Alarms first: a timeout due before a delivery fires before the delivery is handled.
    await alarms();
    while (agenda[0] && agenda[0].at <= elapsed) {
      const d = agenda.shift();
      if (d) await deliver(d);
    }
    await drain();
    if (nextCron <= elapsed) {
      const pass = book.cron(nextCron);
      if (pass.run) {
        clock.set(abs(elapsed + Math.max(0, pass.offsetMs)));
        await cron(Math.max(0, -pass.offsetMs));
        await drain();
        await alarms();
      }
      // After the schedule the cron's passes spread out: every minute for 40 min, then every 10, then hourly.
      const after = elapsed - schedule.end;
      const step = after < 40 * MINUTE ? MINUTE : after < 6 * HOUR ? 10 * MINUTE : HOUR;
      nextCron = Math.max(nextCron + step, Math.ceil(elapsed / MINUTE) * MINUTE);
      if (after > 20 * MINUTE && agenda.length === 0 && (await quiescent())) break;
    }
  }

  async function quiescent(): Promise<boolean> {
    if (queues.size > 0) return false;
    const runs = await readRuns(env.DB, [...workflows.keys()]);
    if (runs.some((r) => r.status === "running" || r.status === "waiting")) return false;
    const fates = await readEventFates(
      env.DB,
      events.map((e) => e.uuid),
    );
    return [...fates.values()].every((f) => f.consumedAt !== null || f.deadLettered);
  }

  const runs = await readRuns(env.DB, [...workflows.keys()]);
  const fates = await readEventFates(
    env.DB,
    events.map((e) => e.uuid),
  );
  const verdict = await checkInvariants({
    events,
    accepted,
    acceptedAt,
    reached: roomLog.reached,
    roomsOf: (uuid) => [...(roomLog.rooms.get(uuid) ?? [])],
    registeredAt: (runId, nodeId) => roomLog.registered.get(`${runId}:${nodeId}`) ?? null,
    fates,
    runs,
    workflows,
    calls: outside.calls,
    registered: (run) => {
      const trigger = byUuid.get(run.triggerUuid);
      return waitRegistered(env.WAIT_ROOMS, waitRoomName(trigger?.source ?? null, run.assetId ?? ""), run.id);
    },
    now: clock.now,
    crashes: schedule.faults.some((f) => ["consumer-death", "d1-error", "d1-blip", "slow-action"].includes(f.kind)),
    killedAt: book.deaths,
    prompt: schedule.faults.every((f) => f.kind === "d1-blip"),
  });

  for (const id of workflows.keys()) await api(env, "DELETE", `/api/workflows/${id}`);
  await clearSeed(
    env.DB,
    [...workflows.keys()],
    events.map((e) => e.uuid),
  );
  return {
    seed: schedule.seed,
    schedule,
    verdict,
    faultsInjected: book.total,
    fired: Object.fromEntries(book.fired),
    messages: queues.stats.delivered,
    cronPasses,
  };
}
