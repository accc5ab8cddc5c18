/**
 * Executes held runs, each in its own pipeline: a run walks (pure) to its next stop,
 * writes what it did, calls its action or registers its wait, and goes on, without
 * waiting for any other run. The writes of all pipelines share D1 round trips through
 * a group commit (group-commit.ts), so a one-action run still costs its share of a few
 * round trips per queue batch.
 *
 * What every run gets, whatever the others do (docs/architecture.md):
 * - fencing: every write names the lease owner (db/run-writes.ts); a run whose lease
 *   another consumer took, or that was terminated, writes nothing more and stops;
 * - a claim right before each call: the action's start is written (counting the
 *   attempt, guarded by status, owner and `not_before`) when its turn for one of the
 *   six connections comes, not earlier; nothing is called after a terminate or an end;
 * - each outcome committed as it returns (with the next stop's writes when that stop
 *   is an end or a pause, or with the next action's claim when a connection is free);
 *   a crash before the commit repeats only that call, under the same Idempotency-Key;
 * - isolation: a run whose write fails is retried through its own message, and a run
 *   that throws fails with the error; neither delays, repeats or fails another;
 * - a budget: no claim is made after EXECUTION_BUDGET_MS; the rest are let go and
 *   handed back by message, so no invocation outlasts its leases.
 * A pause is written to D1 before the WaitRoom is called, and a resume is written to D1
 * before the WaitRoom is told to forget the wait (ack).
 */

import pLimit from "p-limit";
import { toWrite, type Write } from "../db/compiled";
import { fieldsOf } from "../db/event-rows";
import { getEvent } from "../db/events";
import {
  clearWaitRooms,
  deferRun,
  finishRun,
  finishStep,
  type Holder,
  pauseRun,
  recordCondition,
  recordFailedStep,
  releaseRuns,
  resumeRun,
  startAction,
  touchRun,
} from "../db/run-writes";
import type { RunRow } from "../db/schema";
import type { WaitingFor } from "../db/wait-state";
import type { Resolution } from "../durable/wait-messages";
import { waitRoomName, waitRoomNamed } from "../durable/wait-rooms";
import { enqueueLater } from "../queue/enqueue";
import { type ActionOutcome, executeAction } from "../workflows/actions/execute";
import type { WorkflowDefinition } from "../workflows/definition";
import { lateValues } from "../workflows/lateness";
import type { TemplateScope } from "../workflows/template";
import { deferSeconds } from "./defer";
import { InvalidStoredDefinition, loadDefinition } from "./definitions";
import { GroupCommit, StoreError } from "./group-commit";
import { LEASE_MS } from "./lease";
import { logRunFailed, logRunsExecuted } from "./log";
import type { EngineDeps } from "./types";
import { type EventStepOutput, type RecordedStep, type Stop, waitAssetId, walk } from "./walk";

/** Deliveries of a run that may retry the same failing action before the run fails. */
export const MAX_ACTION_ATTEMPTS = 5;
/** Six matches the Workers limit on simultaneous open connections per invocation. */
const ACTIONS_IN_PARALLEL = 6;
/**
 * No claim is made after this much of an invocation: well inside the lease (5 min), so
 * a run's lease never runs out while its holder may still call, and inside a queue
 * consumer's wall-clock limit. Runs not claimed by then are handed back by message.
 */
export const EXECUTION_BUDGET_MS = 3 * 60_000;

/** What a WaitRoom decided for a run's wait (a resume message), to apply and then acknowledge. */
export interface WaitDecision {
  /** The WaitRoom's name (wait-rooms.ts), to acknowledge to. */
  assetId: string;
  nodeId: string;
  resolution: Resolution;
}

/** A run this consumer holds the lease of, with its recorded steps. */
export interface HeldRun {
  run: RunRow;
  steps: RecordedStep[];
  /** WaitRoom decisions to apply before executing (from resume messages). */
  decisions?: WaitDecision[];
}

/** What executeRuns leaves to its caller: the runs whose messages must be retried (a D1 or queue failure). */
export interface Executed {
  retry: Set<string>;
}

interface Live {
  run: RunRow;
  holder: Holder;
  definition: WorkflowDefinition;
  steps: RecordedStep[];
  initialScope: TemplateScope;
}

type Ack = { room: string; runId: string; nodeId: string };

/** A run's commit: `items` with the run's writes not yet committed; resolves to the rows of `items`. */
type Commit = (items?: Write[]) => Promise<unknown[][]>;

/** One invocation's shared state: the writer, the call limiter, and what is left to do after the pipelines. */
class Execution {
  readonly writer: GroupCommit;
  readonly limit = pLimit(ACTIONS_IN_PARALLEL);
  /** Runs inside `limit` or queued for it (counted at once, where the limiter counts a turn later). */
  callers = 0;
  readonly acks: Ack[] = [];
  readonly later: Array<{ runId: string; delaySeconds: number }> = [];
  /** Runs stopped without a write that lets them go. */
  readonly unreleased = new Set<string>();
  readonly retry = new Set<string>();
  readonly counts: Record<string, number> = {};
  readonly deadline: number;

  constructor(
    readonly deps: EngineDeps,
    readonly owner: string,
  ) {
    this.writer = new GroupCommit(deps.db.$client);
    this.deadline = deps.now().getTime() + EXECUTION_BUDGET_MS;
  }

  tally(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }
}

/**
 * Executes the held runs as far as they go now. Each run's fate is its own: the
 * returned `retry` names runs whose writes failed (their messages should be retried);
 * the others are done with for now (ended, paused, deferred, or handed back).
 */
export async function executeRuns(deps: EngineDeps, owner: string, held: readonly HeldRun[]): Promise<Executed> {
  if (held.length === 0) return { retry: new Set() };
  const x = new Execution(deps, owner);
  await Promise.all(held.map((item) => drive(x, item)));
  await settle(x);
  logRunsExecuted(held.length, { ...x.counts, d1Batches: x.writer.batches });
  return { retry: x.retry };
}

/** One run's pipeline, isolated: what it throws is its own. */
async function drive(x: Execution, item: HeldRun): Promise<void> {
  const holder = { runId: item.run.id, owner: x.owner };
  try {
    const live = await prepare(x, item, holder);
    if (live) await advance(x, live, item.decisions ?? []);
  } catch (err) {
    if (err instanceof StoreError) {
      x.retry.add(holder.runId);
      x.unreleased.add(holder.runId);
      return;
    }
    // A bug, or data no check foresaw: this run fails with the reason; no other run is touched.
    const reason = `the engine could not execute the run: ${String(err)}`;
    logRunFailed(item.run, null, reason);
    try {
      await x.writer.commit([finishRun(holder, "failed", x.deps.now(), reason)]);
      x.tally("failed");
    } catch {
      x.retry.add(holder.runId);
      x.unreleased.add(holder.runId);
    }
  }
}

async function prepare(x: Execution, item: HeldRun, holder: Holder): Promise<Live | null> {
  const { deps } = x;
  const { run } = item;
  if (run.status !== "running" && run.status !== "waiting") return null;
  try {
    const definition = await loadDefinition(deps.db, run.workflowId, run.workflowVersion);
    // Runs started before the trigger's fields were kept on the run read them from the event.
    const stored = run.trigger ? null : await getEvent(deps.db, run.triggerEventUuid);
    const trigger = run.trigger ?? (stored ? fieldsOf(stored) : null);
    if (!trigger) throw new InvalidStoredDefinition(`trigger event ${run.triggerEventUuid} is not stored`);
    const initialScope = {
      trigger,
      event: trigger,
      nodes: {},
      run: { id: run.id, workflowId: run.workflowId, ...lateValues(trigger, run.startedAt, definition) },
      ...(run.counted ? { count: run.counted } : {}),
    };
    return { run, holder, definition, steps: [...item.steps], initialScope };
  } catch (err) {
    if (!(err instanceof InvalidStoredDefinition)) throw err;
    await x.writer.commit([finishRun(holder, "failed", deps.now(), err.message)]);
    logRunFailed(run, null, err.message);
    x.tally("failed");
    return null;
  }
}

/** Walks the run from stop to stop until it ends, pauses, defers, or is stopped. */
async function advance(x: Execution, live: Live, decisions: readonly WaitDecision[]): Promise<void> {
  const { now } = x.deps;
  // Writes not yet committed, and the acks that may follow only once they are.
  let pending: Write[] = [];
  const acks: Ack[] = [];
  const commit: Commit = async (items = []) => {
    const all = [...pending, ...items];
    pending = [];
    const results = await x.writer.commit(all);
    x.acks.push(...acks.splice(0));
    return results.slice(all.length - items.length);
  };

  for (const decision of decisions) {
    const { stop } = walk(live.definition, live.steps, live.initialScope, live.run.triggerEventUuid);
    if (stop.kind === "event" && stop.nodeId === decision.nodeId && decision.resolution.kind !== "cancelled") {
      pending.push(...resumeWrites(x, live, stop, decision.resolution));
    }
    acks.push({ room: decision.assetId, runId: live.run.id, nodeId: decision.nodeId });
  }
  if (live.run.status !== "running") {
    // Still waiting (the decisions were repeats): nothing to execute; the lease goes.
    await commit();
    x.unreleased.add(live.run.id);
    return;
  }

  for (;;) {
    const { conditions, stop, scope, lastEvent, seen, since } = walk(
      live.definition,
      live.steps,
      live.initialScope,
      live.run.triggerEventUuid,
    );
    for (const condition of conditions) {
      pending.push(
        recordCondition(live.holder, { nodeId: condition.nodeId, seq: condition.seq }, condition.result, now()),
      );
      live.steps.push({
        nodeId: condition.nodeId,
        status: "succeeded",
        outcome: condition.result ? "true" : "false",
        output: { result: condition.result },
      });
    }

    if (stop.kind === "end") {
      await commit([finishRun(live.holder, stop.status, now())]);
      x.tally(stop.status);
      return;
    }

    if (stop.kind === "event") {
      const resumed = await pause(x, live, stop, scope, { lastEvent, seen, since }, commit);
      if (!resumed) return;
      pending.push(...resumeWrites(x, live, stop, resumed.resolution));
      acks.push(resumed.ack);
      continue;
    }

    // An action.
    const notBefore = live.run.notBefore ? Date.parse(live.run.notBefore) : 0;
    if (notBefore > now().getTime() || now().getTime() >= x.deadline) {
      // Not due yet, or this invocation's budget is spent: let go and come back by message.
      await commit();
      const delaySeconds = Math.max(0, Math.ceil((notBefore - now().getTime()) / 1000));
      x.later.push({ runId: live.run.id, delaySeconds });
      x.unreleased.add(live.run.id);
      x.tally(delaySeconds > 0 ? "notDue" : "handedBack");
      return;
    }
    // What is not yet committed goes with the claim when a connection is free now; if
    // not, at once: an outcome is never held while the claim waits for a slot.
    if (x.callers >= ACTIONS_IN_PARALLEL) await commit();
    x.callers += 1;
    const called = await x
      .limit(() => callOnce(x, live, stop, scope, commit))
      .finally(() => {
        x.callers -= 1;
      });
    if (called.kind === "stopped") return;
    if (called.kind === "succeeded") {
      // Committed with the next stop's writes: at once if that is an end or a pause.
      pending.push(...called.writes);
      continue;
    }
    await commit(called.writes);
    return;
  }
}

type Called = { kind: "stopped" } | { kind: "succeeded"; writes: Write[] } | { kind: "ended"; writes: Write[] };

/**
 * Claims the action, calls it, and returns what comes next: stopped (the claim was
 * refused: terminated, taken, or deferred), succeeded (its outcome's writes, to commit
 * with the next stop's), or ended here (the writes of a deferral or a failure).
 */
async function callOnce(
  x: Execution,
  live: Live,
  stop: Extract<Stop, { kind: "action" }>,
  scope: TemplateScope,
  commit: Commit,
): Promise<Called> {
  const { now } = x.deps;
  if (now().getTime() >= x.deadline) {
    await commit();
    x.later.push({ runId: live.run.id, delaySeconds: 0 });
    x.unreleased.add(live.run.id);
    x.tally("handedBack");
    return { kind: "stopped" };
  }
  const [claimed] = await commit([
    startAction(live.holder, { nodeId: stop.nodeId, seq: stop.seq }, now()),
    touchRun(live.holder, new Date(now().getTime() + LEASE_MS), now()),
  ]);
  const attempts = (claimed as Array<{ attempts: number }> | undefined)?.[0]?.attempts;
  if (attempts === undefined) {
    // Terminated, ended, taken by another consumer, or deferred by one: not ours to call.
    x.unreleased.add(live.run.id);
    x.tally("stopped");
    return { kind: "stopped" };
  }
  live.run = { ...live.run, notBefore: null };
  const outcome = await callAction(x, live, stop, scope, attempts);
  if (outcome.status === "succeeded") {
    const writes = [
      finishStep(live.holder, stop.nodeId, { status: "succeeded", outcome: "next", output: outcome.output }, now()),
    ];
    live.steps.push({
      nodeId: stop.nodeId,
      status: "succeeded",
      outcome: "next",
      output: outcome.output,
      endedAt: now().toISOString(),
    });
    x.tally("actions");
    return { kind: "succeeded", writes };
  }
  if (outcome.retryable && attempts < MAX_ACTION_ATTEMPTS) {
    const delaySeconds = deferSeconds(outcome.retryAfterSeconds, attempts);
    x.later.push({ runId: live.run.id, delaySeconds });
    x.tally("deferred");
    const until = new Date(now().getTime() + delaySeconds * 1000);
    return { kind: "ended", writes: [...deferRun(live.holder, stop.nodeId, outcome.error, until, now())] };
  }
  logRunFailed(live.run, stop.nodeId, outcome.error);
  x.tally("failed");
  return {
    kind: "ended",
    writes: [
      finishStep(live.holder, stop.nodeId, { status: "failed", outcome: null, error: outcome.error }, now()),
      finishRun(live.holder, "failed", now(), `node ${stop.nodeId}: ${outcome.error}`),
    ],
  };
}

async function callAction(
  x: Execution,
  live: Live,
  stop: Extract<Stop, { kind: "action" }>,
  scope: TemplateScope,
  attempt: number,
): Promise<ActionOutcome> {
  try {
    return await executeAction(stop.node.action, {
      scope,
      env: x.deps.env,
      idempotencyKey: `${live.run.id}:${stop.nodeId}`,
      attempt,
    });
  } catch (err) {
    // executeAction reports failed calls as outcomes; a throw is a bug, retried like a network error.
    return { status: "failed", error: `action threw: ${String(err)}`, retryable: true };
  }
}

type NewWait = WaitingFor & { after: NonNullable<WaitingFor["after"]> };

/**
 * Pauses the run at an event node (D1 first), then registers the wait in its
 * WaitRoom. Returns the resolution when the WaitRoom decided at once (a buffered
 * event, or a deadline already past), null when the run now waits or was stopped.
 */
async function pause(
  x: Execution,
  live: Live,
  stop: Extract<Stop, { kind: "event" }>,
  scope: TemplateScope,
  seenSoFar: { lastEvent: { uuid: string; eventDate: string }; seen: string[]; since: string },
  commit: Commit,
): Promise<{ resolution: Exclude<Resolution, { kind: "cancelled" }>; ack: Ack } | null> {
  const { now } = x.deps;
  const assetId = waitAssetId(stop.node.asset, scope);
  if (!assetId) {
    const error = `no asset ID to wait on (asset: ${stop.node.asset})`;
    await commit([
      recordFailedStep(live.holder, { nodeId: stop.nodeId, seq: stop.seq, kind: "event" }, error, now()),
      finishRun(live.holder, "failed", now(), `node ${stop.nodeId}: ${error}`),
    ]);
    logRunFailed(live.run, stop.nodeId, error);
    x.tally("failed");
    return null;
  }
  const timeout = stop.node.timeoutSeconds;
  const source = live.initialScope.trigger.source ?? null;
  const waitingFor: NewWait = {
    nodeId: stop.nodeId,
    assetId,
    source,
    eventTypes: stop.node.eventTypes,
    filter: stop.node.filter ?? null,
    until: timeout ? new Date(Date.parse(seenSoFar.since) + timeout * 1000).toISOString() : null,
    after: seenSoFar.lastEvent,
    seen: seenSoFar.seen,
  };
  const room = waitRoomName(source, assetId);
  const results = await commit([
    ...pauseRun(live.holder, { nodeId: stop.nodeId, seq: stop.seq }, waitingFor, room, now()),
  ]);
  if (((results[1] as unknown[] | undefined)?.length ?? 0) === 0) {
    x.tally("stopped");
    return null;
  }
  x.tally("paused");
  let state: Awaited<ReturnType<ReturnType<typeof waitRoomNamed>["wait"]>>;
  try {
    state = await waitRoomNamed(x.deps.env, room).wait({
      runId: live.run.id,
      nodeId: stop.nodeId,
      workflowId: live.run.workflowId,
      assetId,
      room,
      source,
      seen: waitingFor.seen,
      eventTypes: waitingFor.eventTypes,
      filter: waitingFor.filter,
      after: waitingFor.after,
      deadline: waitingFor.until === null ? null : Date.parse(waitingFor.until),
    });
  } catch (err) {
    // The run is waiting in D1; the cron registers the wait again from D1's copy.
    console.error(
      JSON.stringify({
        msg: "WaitRoom wait failed; the cron registers it again",
        runId: live.run.id,
        error: String(err),
      }),
    );
    return null;
  }
  if (state.state === "waiting") return null;
  const ack = { room, runId: live.run.id, nodeId: stop.nodeId };
  if (state.resolution.kind === "cancelled") {
    x.acks.push(ack);
    return null;
  }
  return { resolution: state.resolution, ack };
}

/** The writes that apply a wait's resolution, and the run as it stands after them. */
function resumeWrites(
  x: Execution,
  live: Live,
  stop: Extract<Stop, { kind: "event" }>,
  resolution: Exclude<Resolution, { kind: "cancelled" }>,
): Write[] {
  const output: EventStepOutput =
    resolution.kind === "event"
      ? { event: resolution.event.fields, eventUuid: resolution.event.uuid, timedOut: false }
      : { event: null, eventUuid: null, timedOut: true };
  const outcome = resolution.kind === "event" ? "next" : "timeout";
  const at = x.deps.now();
  live.steps = [
    ...live.steps.filter((s) => s.nodeId !== stop.nodeId),
    { nodeId: stop.nodeId, status: "succeeded", outcome, output, endedAt: at.toISOString() },
  ];
  live.run = { ...live.run, status: "running" };
  x.tally(outcome === "next" ? "resumed" : "waitsTimedOut");
  return [
    ...resumeRun(
      live.holder,
      { nodeId: stop.nodeId, seq: stop.seq },
      { outcome, output },
      at,
      new Date(at.getTime() + LEASE_MS),
    ),
  ];
}

/** After every pipeline: let go of runs still held, tell WaitRooms what D1 now holds, and send hand-backs. */
async function settle(x: Execution): Promise<void> {
  const { db, env } = x.deps;
  const unreleased = [...x.unreleased];
  if (unreleased.length > 0) {
    try {
      await x.writer.commit([toWrite(releaseRuns(db, x.owner, unreleased))]);
    } catch (err) {
      // Their leases run out on their own; a retried message takes its own lease back at once.
      console.error(JSON.stringify({ msg: "lease release failed", count: unreleased.length, error: String(err) }));
    }
  }
  await settleAcks(x);
  try {
    await enqueueLater(env.EVENTS, x.later);
  } catch (err) {
    // D1 holds each of these (notBefore, repairAfter): the cron hands the run back when it is due.
    console.error(JSON.stringify({ msg: "deferred run send failed; the cron repairs it", error: String(err) }));
  }
}

/** Tells WaitRooms to forget waits whose resume D1 now holds; then D1 forgets which WaitRoom held them. */
async function settleAcks(x: Execution): Promise<void> {
  const acked: string[] = [];
  await Promise.all(
    [...Map.groupBy(x.acks, (ack) => ack.room)].map(async ([room, waits]) => {
      try {
        await waitRoomNamed(x.deps.env, room).ack(waits.map(({ runId, nodeId }) => ({ runId, nodeId })));
        acked.push(...waits.map((wait) => wait.runId));
      } catch (err) {
        // The WaitRoom re-sends the resume; its next delivery acknowledges it again.
        console.error(JSON.stringify({ msg: "WaitRoom ack failed; it will re-send", room, error: String(err) }));
      }
    }),
  );
  if (acked.length > 0) {
    try {
      await x.writer.commit([toWrite(clearWaitRooms(x.deps.db, acked))]);
    } catch (err) {
      // The cron cancels waits of ended runs that still name a WaitRoom: harmless, only later.
      console.error(JSON.stringify({ msg: "wait room marker not cleared", error: String(err) }));
    }
  }
}
