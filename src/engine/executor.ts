/**
 * Executes many held runs together, in rounds. In each round every run walks (pure)
 * to its next stop, the round's writes go to D1 in one batch, and then the round's
 * actions are called and its waits registered, concurrently. A one-action run thus
 * costs its share of a few D1 round trips per queue batch, not several of its own.
 *
 * Order of effects, which the repairs in docs/architecture.md rely on:
 * - an action's start is written (counting the attempt) before it is called, and
 *   its outcome after; a crash in between repeats the call with the same
 *   Idempotency-Key;
 * - a pause is written to D1 before the WaitRoom is called;
 * - a resume is written to D1 before the WaitRoom is told to forget the wait (ack).
 */

import type { BatchItem } from "drizzle-orm/batch";
import pLimit from "p-limit";
import type { Db } from "../db/client";
import { fieldsOf } from "../db/event-rows";
import { getEvent } from "../db/events";
import {
  clearWaitRooms,
  deferRun,
  finishRun,
  finishStep,
  pauseRun,
  recordCondition,
  recordFailedStep,
  releaseRuns,
  resumeRun,
  startAction,
  touchRuns,
} from "../db/run-writes";
import type { RunRow } from "../db/schema";
import type { WaitingFor } from "../db/wait-state";
import type { Resolution, WaitState } from "../durable/wait-messages";
import { waitRoomFor } from "../durable/wait-rooms";
import { enqueueLater } from "../queue/enqueue";
import { type ActionOutcome, executeAction } from "../workflows/actions/execute";
import type { WorkflowDefinition } from "../workflows/definition";
import type { TemplateScope } from "../workflows/template";
import { InvalidStoredDefinition, loadDefinition } from "./definitions";
import { LEASE_MS } from "./lease";
import { logRunFailed, logRunsExecuted } from "./log";
import type { EngineDeps } from "./types";
import { type EventStepOutput, type RecordedStep, type Stop, waitAssetId, walk } from "./walk";

/** Deliveries of a run that may retry the same failing action before the run fails. */
export const MAX_ACTION_ATTEMPTS = 5;
/** Cloudflare Queues delay a message by at most 12 hours; a longer deferral is re-delayed on arrival. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;
/** Six matches the Workers limit on simultaneous open connections per invocation. */
const ACTIONS_IN_PARALLEL = 6;

/** What a WaitRoom decided for a run's wait (a resume message), to apply and then acknowledge. */
export interface WaitDecision {
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

interface Live {
  run: RunRow;
  definition: WorkflowDefinition;
  steps: RecordedStep[];
  initialScope: TemplateScope;
}

/** What is left to do after the D1 writes: tell WaitRooms to forget resolved waits, and re-send deferred runs. */
class Effects {
  readonly acks = new Map<string, Array<{ runId: string; nodeId: string }>>();
  readonly later: Array<{ runId: string; delaySeconds: number }> = [];
  /** What the batch did, for its one log line. */
  readonly counts: Record<string, number> = {};
  tally(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }
  ack(assetId: string, runId: string, nodeId: string): void {
    const list = this.acks.get(assetId) ?? [];
    list.push({ runId, nodeId });
    this.acks.set(assetId, list);
  }
}

async function commit(db: Db, items: BatchItem<"sqlite">[]): Promise<unknown[]> {
  const [first, ...rest] = items;
  return first ? db.batch([first, ...rest]) : [];
}

/** Executes the held runs as far as they go now, then releases them. Throws only when D1 or the queue fails. */
export async function executeRuns(deps: EngineDeps, held: readonly HeldRun[]): Promise<void> {
  if (held.length === 0) return;
  const { db } = deps;
  const effects = new Effects();
  const pending: BatchItem<"sqlite">[] = [];
  let active: Live[] = [];
  for (const item of held) {
    const live = await prepare(deps, item, pending);
    if (live && applyDecisions(deps, live, item.decisions ?? [], pending, effects)) active.push(live);
  }
  while (active.length > 0) active = await round(deps, active, pending, effects);
  pending.push(
    releaseRuns(
      db,
      held.map((item) => item.run.id),
    ),
  );
  await commit(db, pending.splice(0));
  logRunsExecuted(held.length, effects.counts);
  await settleAcks(deps, effects);
  try {
    await enqueueLater(deps.env.EVENTS, effects.later);
  } catch (err) {
    // The deferral is in D1 (notBefore, repairAfter): the cron hands the run back when it is due.
    console.error(JSON.stringify({ msg: "deferred run send failed; the cron repairs it", error: String(err) }));
  }
}

async function prepare(deps: EngineDeps, item: HeldRun, pending: BatchItem<"sqlite">[]): Promise<Live | null> {
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
      run: { id: run.id, workflowId: run.workflowId },
    };
    return { run, definition, steps: [...item.steps], initialScope };
  } catch (err) {
    if (!(err instanceof InvalidStoredDefinition)) throw err;
    pending.push(finishRun(deps.db, run.id, "failed", deps.now(), err.message));
    logRunFailed(run, null, err.message);
    return null;
  }
}

/**
 * Applies what WaitRooms decided. A decision for the event node the run waits at
 * resumes it; any other (already applied, or the run moved on) is only acknowledged.
 * Returns whether the run can execute now (a run still waiting cannot).
 */
function applyDecisions(
  deps: EngineDeps,
  live: Live,
  decisions: readonly WaitDecision[],
  pending: BatchItem<"sqlite">[],
  effects: Effects,
): boolean {
  for (const decision of decisions) {
    const { stop } = walk(live.definition, live.steps, live.initialScope, live.run.triggerEventUuid);
    if (stop.kind === "event" && stop.nodeId === decision.nodeId && decision.resolution.kind !== "cancelled") {
      recordResume(deps, live, stop, decision.resolution, pending);
    }
    effects.ack(decision.assetId, live.run.id, decision.nodeId);
  }
  return live.run.status === "running";
}

function recordResume(
  deps: EngineDeps,
  live: Live,
  stop: Extract<Stop, { kind: "event" }>,
  resolution: Exclude<Resolution, { kind: "cancelled" }>,
  pending: BatchItem<"sqlite">[],
): void {
  const output: EventStepOutput =
    resolution.kind === "event"
      ? { event: resolution.event.fields, eventUuid: resolution.event.uuid, timedOut: false }
      : { event: null, eventUuid: null, timedOut: true };
  const outcome = resolution.kind === "event" ? "next" : "timeout";
  pending.push(
    ...resumeRun(deps.db, { runId: live.run.id, nodeId: stop.nodeId, seq: stop.seq }, { outcome, output }, deps.now()),
  );
  live.steps = [
    ...live.steps.filter((s) => s.nodeId !== stop.nodeId),
    { nodeId: stop.nodeId, status: "succeeded", outcome, output },
  ];
  live.run = { ...live.run, status: "running" };
}

type ActionJob = { live: Live; stop: Extract<Stop, { kind: "action" }>; scope: TemplateScope; at: number };
type NewWait = WaitingFor & { after: NonNullable<WaitingFor["after"]> };
type WaitJob = { live: Live; stop: Extract<Stop, { kind: "event" }>; waitingFor: NewWait; at: number };

/** One round: walk every run to its stop, write, then call out. Returns the runs that can go further. */
async function round(
  deps: EngineDeps,
  active: Live[],
  pending: BatchItem<"sqlite">[],
  effects: Effects,
): Promise<Live[]> {
  const { db, now } = deps;
  const actions: ActionJob[] = [];
  const waits: WaitJob[] = [];
  for (const live of active) {
    const { run } = live;
    const { conditions, stop, scope, lastEvent } = walk(
      live.definition,
      live.steps,
      live.initialScope,
      run.triggerEventUuid,
    );
    for (const condition of conditions) {
      pending.push(
        recordCondition(db, { runId: run.id, nodeId: condition.nodeId, seq: condition.seq }, condition.result, now()),
      );
      live.steps.push({
        nodeId: condition.nodeId,
        status: "succeeded",
        outcome: condition.result ? "true" : "false",
        output: { result: condition.result },
      });
    }
    if (stop.kind === "end") {
      pending.push(finishRun(db, run.id, stop.status, now()));
      effects.tally(stop.status);
    } else if (stop.kind === "action") {
      const notBefore = run.notBefore ? Date.parse(run.notBefore) : 0;
      if (notBefore > now().getTime()) {
        effects.later.push({ runId: run.id, delaySeconds: Math.ceil((notBefore - now().getTime()) / 1000) });
        continue;
      }
      actions.push({ live, stop, scope, at: pending.length });
      pending.push(startAction(db, { runId: run.id, nodeId: stop.nodeId, seq: stop.seq }, now()));
    } else {
      const assetId = waitAssetId(stop.node.asset, scope);
      if (!assetId) {
        const error = `no asset ID to wait on (asset: ${stop.node.asset})`;
        pending.push(
          recordFailedStep(db, { runId: run.id, nodeId: stop.nodeId, seq: stop.seq, kind: "event" }, error, now()),
        );
        pending.push(finishRun(db, run.id, "failed", now(), `node ${stop.nodeId}: ${error}`));
        logRunFailed(run, stop.nodeId, error);
        continue;
      }
      const timeout = stop.node.timeoutSeconds;
      const waitingFor: NewWait = {
        nodeId: stop.nodeId,
        assetId,
        eventTypes: stop.node.eventTypes,
        filter: stop.node.filter ?? null,
        until: timeout ? new Date(now().getTime() + timeout * 1000).toISOString() : null,
        after: lastEvent,
      };
      waits.push({ live, stop, waitingFor, at: pending.length });
      pending.push(...pauseRun(db, { runId: run.id, nodeId: stop.nodeId, seq: stop.seq }, waitingFor, now()));
      effects.tally("paused");
    }
  }
  if (actions.length > 0) {
    pending.push(
      touchRuns(
        db,
        actions.map((job) => job.live.run.id),
        new Date(now().getTime() + LEASE_MS),
        now(),
      ),
    );
  }
  const results = await commit(db, pending.splice(0));
  const limit = pLimit(ACTIONS_IN_PARALLEL);
  const next: Live[] = [];
  await Promise.all([
    ...actions.map((job) => {
      const started = (results[job.at] as Array<{ attempts: number }> | undefined)?.[0];
      // No row: the run was terminated before this round's writes.
      return started ? limit(() => runAction(deps, job, started.attempts, pending, effects, next)) : undefined;
    }),
    ...waits.map((job) => {
      const paused = (results[job.at] as unknown[] | undefined)?.length ?? 0;
      return paused > 0 ? registerWait(deps, job, pending, effects, next) : undefined;
    }),
  ]);
  return next;
}

async function runAction(
  deps: EngineDeps,
  job: ActionJob,
  attempts: number,
  pending: BatchItem<"sqlite">[],
  effects: Effects,
  next: Live[],
): Promise<void> {
  const { db, now } = deps;
  const { live, stop } = job;
  const key = { runId: live.run.id, nodeId: stop.nodeId };
  const outcome = await callAction(deps, job);
  if (outcome.status === "succeeded") {
    pending.push(finishStep(db, key, { status: "succeeded", outcome: "next", output: outcome.output }, now()));
    live.steps.push({ nodeId: stop.nodeId, status: "succeeded", outcome: "next", output: outcome.output });
    live.run = { ...live.run, notBefore: null };
    next.push(live);
    effects.tally("actions");
  } else if (outcome.retryable && attempts < MAX_ACTION_ATTEMPTS) {
    const delaySeconds = Math.max(1, Math.ceil(outcome.retryAfterSeconds ?? 30 * attempts));
    pending.push(...deferRun(db, key, outcome.error, new Date(now().getTime() + delaySeconds * 1000), now()));
    effects.later.push({ runId: live.run.id, delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, delaySeconds) });
    effects.tally("deferred");
  } else {
    pending.push(finishStep(db, key, { status: "failed", outcome: null, error: outcome.error }, now()));
    pending.push(finishRun(db, live.run.id, "failed", now(), `node ${stop.nodeId}: ${outcome.error}`));
    logRunFailed(live.run, stop.nodeId, outcome.error);
    effects.tally("failed");
  }
}

async function callAction(deps: EngineDeps, job: ActionJob): Promise<ActionOutcome> {
  try {
    return await executeAction(job.stop.node.action, {
      scope: job.scope,
      env: deps.env,
      idempotencyKey: `${job.live.run.id}:${job.stop.nodeId}`,
    });
  } catch (err) {
    // executeAction reports failed calls as outcomes; a throw is a bug, retried like a network error.
    return { status: "failed", error: `action threw: ${String(err)}`, retryable: true };
  }
}

/**
 * Registers the pause (already written to D1) in the asset's WaitRoom. A wait the
 * WaitRoom resolves at once (a buffered event) carries on in the next round. If the
 * call fails, the run stays `waiting` and the cron registers it again.
 */
async function registerWait(
  deps: EngineDeps,
  job: WaitJob,
  pending: BatchItem<"sqlite">[],
  effects: Effects,
  next: Live[],
): Promise<void> {
  const { live, stop, waitingFor } = job;
  let state: WaitState;
  try {
    state = await waitRoomFor(deps.env, waitingFor.assetId).wait({
      runId: live.run.id,
      nodeId: stop.nodeId,
      workflowId: live.run.workflowId,
      assetId: waitingFor.assetId,
      eventTypes: waitingFor.eventTypes,
      filter: waitingFor.filter,
      after: waitingFor.after,
      deadline: waitingFor.until === null ? null : Date.parse(waitingFor.until),
    });
  } catch (err) {
    console.error(
      JSON.stringify({
        msg: "WaitRoom wait failed; the cron registers it again",
        runId: live.run.id,
        error: String(err),
      }),
    );
    return;
  }
  if (state.state === "waiting") return;
  effects.ack(waitingFor.assetId, live.run.id, stop.nodeId);
  if (state.resolution.kind === "cancelled") return;
  recordResume(deps, live, stop, state.resolution, pending);
  next.push(live);
}

/** Tells WaitRooms to forget waits whose resume D1 now holds; then D1 forgets which WaitRoom held them. */
async function settleAcks(deps: EngineDeps, effects: Effects): Promise<void> {
  const acked: string[] = [];
  await Promise.all(
    [...effects.acks].map(async ([assetId, waits]) => {
      try {
        await waitRoomFor(deps.env, assetId).ack(waits);
        acked.push(...waits.map((wait) => wait.runId));
      } catch (err) {
        // The WaitRoom re-sends the resume; its next delivery acknowledges it again.
        console.error(JSON.stringify({ msg: "WaitRoom ack failed; it will re-send", assetId, error: String(err) }));
      }
    }),
  );
  if (acked.length > 0) await deps.db.batch([clearWaitRooms(deps.db, acked)]);
}
