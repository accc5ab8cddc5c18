/**
 * Executes a run from where it stands until it ends, pauses at an event node, or an
 * action asks to be retried later. Every state change is written to D1 before the
 * next node starts; a run is held under a lease so two deliveries never execute it
 * at once, and recorded steps are replayed, not executed again.
 */
import type { Db } from "../db/client";
import { fieldsOf } from "../db/event-rows";
import { getEvent } from "../db/events";
import { finishRun, listSteps, recordStep, resumeWaitingRun } from "../db/runs";
import type { RunRow } from "../db/schema";
import type { EventFields } from "../okta/event-fields";
import type { ResumeMessage } from "../queue/messages";
import type { WorkflowDefinition } from "../workflows/definition";
import { evaluate } from "../workflows/predicate";
import type { TemplateScope } from "../workflows/template";
import { runActionStep } from "./action-step";
import { InvalidStoredDefinition, loadDefinition } from "./definitions";
import { waitAtEventNode } from "./event-step";
import { withLease } from "./lease";
import type { AdvanceResult, EngineDeps } from "./types";
import { type EventStepOutput, nextNodeId, type RecordedStep, replay } from "./walk";

export type { AdvanceResult, EngineDeps } from "./types";

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

  for (let node = nodeId ? definition.nodes[nodeId] : undefined; nodeId && node; ) {
    const position = { nodeId, seq };
    if (node.kind === "condition") {
      const result = evaluate(node.when, scope.event);
      lastOutcome = result ? "true" : "false";
      await recordStep(
        db,
        { runId: run.id, ...position, kind: "condition" },
        { outcome: lastOutcome, output: { result } },
        now(),
      );
      scope.nodes[nodeId] = { output: { result } };
    } else if (node.kind === "action") {
      const step = await runActionStep(deps, run, { ...position, node }, scope);
      if (step.kind === "stop") return step.result;
      scope.nodes[nodeId] = { output: step.output };
      lastOutcome = "next";
    } else {
      const step = await waitAtEventNode(deps, run, { ...position, node }, scope, lastEvent);
      if (step.kind !== "resolved") return { kind: "settled" };
      const updated = await recordWaitEnd(deps, run.id, await listSteps(db, run.id), nodeId, step.resolution);
      return execute(deps, run, updated);
    }
    nodeId = nextNodeId(node, lastOutcome);
    node = nodeId ? definition.nodes[nodeId] : undefined;
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
