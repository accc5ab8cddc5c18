/**
 * Executes a run from where it stands until it ends, pauses at an event node, or an
 * action asks to be retried later. Every state change is written to D1 before the
 * next node starts; a run is held under a lease so two deliveries never execute it
 * at once, and recorded steps are replayed, not executed again.
 */
import type { Db } from "../db/client";
import { fieldsOf } from "../db/event-rows";
import { getEvent } from "../db/events";
import {
  acquireLease,
  finishRun,
  finishStep,
  getRun,
  listSteps,
  noteStepError,
  pauseRun,
  recordStep,
  releaseLease,
  renewLease,
  resumeWaitingRun,
  startStep,
} from "../db/runs";
import type { RunRow } from "../db/schema";
import { waitRoomFor } from "../durable/wait-rooms";
import type { EventFields } from "../okta/event-fields";
import type { ResumeMessage } from "../queue/messages";
import { executeAction } from "../workflows/actions/execute";
import type { WorkflowDefinition } from "../workflows/definition";
import { evaluate } from "../workflows/predicate";
import type { TemplateScope } from "../workflows/template";
import { InvalidStoredDefinition, loadDefinition } from "./definitions";
import { type EventStepOutput, nextNodeId, type RecordedStep, replay, waitAssetId } from "./walk";

/** How long one consumer may hold a run: longer than an action's worst case (6 attempts of 30 s plus backoff). */
const LEASE_MS = 5 * 60_000;
/** Deliveries of a run message that may retry the same failing action before the run fails. */
export const MAX_ACTION_ATTEMPTS = 5;
/** Cloudflare Queues delay a retry by at most 12 hours. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;
/** A run held by another consumer is usually free again within seconds (it is pausing or finishing). */
const LEASE_BUSY_RETRY_SECONDS = 5;

export type AdvanceResult =
  | { kind: "settled" }
  /** Try again later: the run is leased by another consumer, or an action asked to be retried. */
  | { kind: "retry"; delaySeconds: number };

export interface EngineDeps {
  db: Db;
  env: Env;
  now: () => Date;
}

/**
 * Runs `work` on the run while holding its lease. `work` gets the run as it stood when
 * the lease was taken. A run leased by another consumer is retried shortly; a run
 * that has ended is left alone.
 */
async function withLease(
  deps: EngineDeps,
  runId: string,
  work: (run: RunRow) => Promise<AdvanceResult>,
): Promise<AdvanceResult> {
  const now = deps.now();
  const run = await acquireLease(deps.db, runId, now, new Date(now.getTime() + LEASE_MS));
  if (!run) {
    const current = await getRun(deps.db, runId);
    const active = current?.status === "running" || current?.status === "waiting";
    return active ? { kind: "retry", delaySeconds: LEASE_BUSY_RETRY_SECONDS } : { kind: "settled" };
  }
  try {
    return await work(run);
  } finally {
    await releaseLease(deps.db, runId, deps.now());
  }
}

/** Advances a running run. Idempotent: a run that is not running (waiting, ended) is left alone. */
export async function advanceRun(deps: EngineDeps, runId: string): Promise<AdvanceResult> {
  return withLease(deps, runId, async (run) => (run.status === "running" ? execute(deps, run) : { kind: "settled" }));
}

/**
 * Ends a run's wait with the event or timeout its WaitRoom decided, then advances it.
 * Idempotent: a wait already resumed is not resumed again.
 */
export async function resumeRun(deps: EngineDeps, message: ResumeMessage): Promise<AdvanceResult> {
  return withLease(deps, message.runId, async (run) => {
    const steps = await listSteps(deps.db, run.id);
    const updated = await recordWaitEnd(deps, run.id, steps, message.nodeId, message.resolution);
    return execute(deps, { ...run, status: "running" }, updated);
  });
}

/**
 * Writes the event node's outcome (unless already written) and sets the run running
 * again. Returns the run's steps with that outcome in them.
 */
async function recordWaitEnd(
  deps: EngineDeps,
  runId: string,
  steps: readonly RecordedStep[],
  nodeId: string,
  resolution: ResumeMessage["resolution"],
): Promise<RecordedStep[]> {
  const step = steps.find((s) => s.nodeId === nodeId);
  if (step?.status === "succeeded") return [...steps];
  const output: EventStepOutput =
    resolution.kind === "event"
      ? { event: resolution.event.fields, eventUuid: resolution.event.uuid, timedOut: false }
      : { event: null, eventUuid: null, timedOut: true };
  const outcome = resolution.kind === "event" ? "next" : "timeout";
  await resumeWaitingRun(deps.db, { runId, nodeId, seq: steps.length + 1 }, { outcome, output }, deps.now());
  return [...steps.filter((s) => s.nodeId !== nodeId), { nodeId, status: "succeeded", outcome, output }];
}

/** Executes from where the recorded `steps` (read now when not given) leave the run. */
async function execute(deps: EngineDeps, run: RunRow, knownSteps?: readonly RecordedStep[]): Promise<AdvanceResult> {
  const { db, now } = deps;
  if (run.status !== "running") return { kind: "settled" };
  let definition: WorkflowDefinition;
  try {
    definition = await loadDefinition(db, run.workflowId, run.workflowVersion);
  } catch (err) {
    if (!(err instanceof InvalidStoredDefinition)) throw err;
    await finishRun(db, run.id, "failed", now(), err.message);
    return { kind: "settled" };
  }
  const trigger = run.trigger ?? (await storedTriggerFields(db, run.triggerEventUuid));
  if (!trigger) {
    await finishRun(db, run.id, "failed", now(), `trigger event ${run.triggerEventUuid} is not stored`);
    return { kind: "settled" };
  }
  const initialScope: TemplateScope = {
    trigger,
    event: trigger,
    nodes: {},
    run: { id: run.id, workflowId: run.workflowId },
  };
  const steps = knownSteps ?? (await listSteps(db, run.id));
  let { nodeId, seq, scope, lastEvent } = replay(definition, steps, initialScope, run.triggerEventUuid);
  // A wait that timed out with no timeout branch ends the run `timed_out`, not `completed`.
  let lastOutcome = steps.at(-1)?.outcome ?? null;

  while (nodeId) {
    const node = definition.nodes[nodeId];
    if (!node) break;
    const key = { runId: run.id, nodeId };
    if (node.kind === "condition") {
      const result = evaluate(node.when, scope.event);
      const outcome = result ? "true" : "false";
      await recordStep(db, { ...key, seq, kind: "condition" }, { outcome, output: { result } }, now());
      scope.nodes[nodeId] = { output: { result } };
      lastOutcome = outcome;
      nodeId = nextNodeId(node, outcome);
    } else if (node.kind === "action") {
      // An admin may have terminated the run while earlier steps ran.
      if (!(await renewLease(db, run.id, new Date(now().getTime() + LEASE_MS)))) return { kind: "settled" };
      const attempts = await startStep(db, { ...key, seq, kind: "action" }, now());
      const outcome = await executeAction(node.action, { scope, env: deps.env, idempotencyKey: `${run.id}:${nodeId}` });
      if (outcome.status === "succeeded") {
        await finishStep(db, key, { status: "succeeded", outcome: "next", output: outcome.output }, now());
        scope.nodes[nodeId] = { output: outcome.output };
        lastOutcome = "next";
        nodeId = nextNodeId(node, "next");
      } else if (outcome.retryable && attempts < MAX_ACTION_ATTEMPTS) {
        await noteStepError(db, key, outcome.error);
        const delay = outcome.retryAfterSeconds ?? 30 * attempts;
        return { kind: "retry", delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delay)) };
      } else {
        await finishStep(db, key, { status: "failed", outcome: null, error: outcome.error }, now());
        await finishRun(db, run.id, "failed", now(), `node ${nodeId}: ${outcome.error}`);
        return { kind: "settled" };
      }
    } else {
      const assetId = waitAssetId(node.asset, scope);
      if (!assetId) {
        const error = `no asset ID to wait on (asset: ${node.asset})`;
        await startStep(db, { ...key, seq, kind: "event" }, now());
        await finishStep(db, key, { status: "failed", outcome: null, error }, now());
        await finishRun(db, run.id, "failed", now(), `node ${nodeId}: ${error}`);
        return { kind: "settled" };
      }
      // Register with the WaitRoom first: if the D1 write below fails, the retry finds
      // the wait already there (wait() is idempotent) instead of losing it.
      const wait = await waitRoomFor(deps.env, assetId).wait({
        runId: run.id,
        nodeId,
        workflowId: run.workflowId,
        assetId,
        eventTypes: node.eventTypes,
        filter: node.filter ?? null,
        after: lastEvent,
        deadline: node.timeoutSeconds ? now().getTime() + node.timeoutSeconds * 1000 : null,
      });
      if (wait.state === "resolved") {
        // Resolved already (a buffered event, or an earlier attempt's wait): carry on here
        // rather than depend on the resume message, which the WaitRoom also sends.
        if (wait.resolution.kind === "cancelled") return { kind: "settled" };
        const updated = await recordWaitEnd(deps, run.id, await listSteps(db, run.id), nodeId, wait.resolution);
        return execute(deps, run, updated);
      }
      const waitingFor = {
        nodeId,
        assetId,
        eventTypes: node.eventTypes,
        filter: node.filter ?? null,
        until: wait.deadline === null ? null : new Date(wait.deadline).toISOString(),
      };
      await pauseRun(db, { ...key, seq }, waitingFor, now());
      return { kind: "settled" };
    }
    seq += 1;
  }
  await finishRun(db, run.id, lastOutcome === "timeout" ? "timed_out" : "completed", now());
  return { kind: "settled" };
}

/** Runs started before the trigger's fields were kept on the run read them from the event. */
async function storedTriggerFields(db: Db, uuid: string): Promise<EventFields | null> {
  const event = await getEvent(db, uuid);
  return event ? fieldsOf(event) : null;
}
