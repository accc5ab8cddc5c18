/**
 * The pure half of executing a run: where the run is, given the definition and the
 * steps already recorded. A redelivered message replays recorded steps instead of
 * executing them again, so a succeeded action is never repeated.
 */
import type { EventFields } from "../okta/event-fields";
import type { WorkflowDefinition, WorkflowNode } from "../workflows/definition";
import type { TemplateScope } from "../workflows/template";

export interface RecordedStep {
  nodeId: string;
  status: string;
  outcome: string | null;
  output: unknown;
}

export interface Position {
  /** The node to execute next, or null when the run has reached the end of a branch. */
  nodeId: string | null;
  /** 1-based position of that node in the run's path. */
  seq: number;
  scope: TemplateScope;
  /** The last event the run saw (its trigger, or the event that resumed its latest wait). */
  lastEvent: { uuid: string; eventDate: string };
}

/** The node an outcome leads to: the branch named by the outcome, null for an empty branch. */
export function nextNodeId(node: WorkflowNode, outcome: string | null): string | null {
  switch (node.kind) {
    case "action":
      return node.next ?? null;
    case "condition":
      return (outcome === "true" ? node.true : node.false) ?? null;
    case "event":
      return (outcome === "timeout" ? node.onTimeout : node.next) ?? null;
  }
}

/** What an event node records as output when an event resumes it; templates read it as `nodes.<id>.output`. */
export interface EventStepOutput {
  event: EventFields | null;
  eventUuid: string | null;
  timedOut: boolean;
}

export function isEventStepOutput(value: unknown): value is EventStepOutput {
  return typeof value === "object" && value !== null && "timedOut" in value;
}

/** Follows the succeeded steps from `start` and returns the first node still to execute. */
export function replay(
  definition: WorkflowDefinition,
  steps: readonly RecordedStep[],
  initialScope: TemplateScope,
  triggerUuid: string,
): Position {
  const byNode = new Map(steps.map((step) => [step.nodeId, step]));
  const scope: TemplateScope = { ...initialScope, nodes: { ...initialScope.nodes } };
  let lastEvent = { uuid: triggerUuid, eventDate: initialScope.trigger.eventDate };
  let nodeId = definition.start ?? null;
  let seq = 1;
  for (;;) {
    const node = nodeId ? definition.nodes[nodeId] : undefined;
    const step = nodeId ? byNode.get(nodeId) : undefined;
    if (!nodeId || !node || step?.status !== "succeeded") return { nodeId, seq, scope, lastEvent };
    scope.nodes[nodeId] = { output: step.output };
    if (node.kind === "event" && isEventStepOutput(step.output) && step.output.event && step.output.eventUuid) {
      scope.event = step.output.event;
      lastEvent = { uuid: step.output.eventUuid, eventDate: step.output.event.eventDate };
    }
    nodeId = nextNodeId(node, step.outcome);
    seq += 1;
  }
}

/** The asset an event node watches: the trigger's, or the one the named earlier event node received. */
export function waitAssetId(asset: string, scope: TemplateScope): string | null {
  if (asset === "trigger") return scope.trigger.id;
  const output = scope.nodes[asset]?.output;
  return isEventStepOutput(output) ? (output.event?.id ?? null) : null;
}
