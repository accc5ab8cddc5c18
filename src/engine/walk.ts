/**
 * The pure half of executing a run: where the run is, given the definition and the
 * steps already recorded. A redelivered message replays recorded steps instead of
 * executing them again, so a succeeded action is never repeated.
 */
import type { EventFields } from "../okta/event-fields";
import type { ActionNode, EventNode, WorkflowDefinition, WorkflowNode } from "../workflows/definition";
import { evaluate } from "../workflows/predicate";
import type { TemplateScope } from "../workflows/template";

export interface RecordedStep {
  nodeId: string;
  status: string;
  outcome: string | null;
  output: unknown;
  /** When the step ended (ISO 8601): a wait after an action counts its timeout from here. */
  endedAt?: string | null;
}

export interface Position {
  /** The node to execute next, or null when the run has reached the end of a branch. */
  nodeId: string | null;
  /** 1-based position of that node in the run's path. */
  seq: number;
  scope: TemplateScope;
  /** The last event the run saw (its trigger, or the event that resumed its latest wait). */
  lastEvent: { uuid: string; eventDate: string };
  /** Every event the run has taken: its trigger and each that resumed it. None may resume it again. */
  seen: string[];
  /**
   * What a wait's timeout counts from: the `published` time of the event that led the
   * run here (the trigger, or the event that resumed it), or the end of an action after
   * it. Not the time a consumer got to it: a late event must not push a deadline out.
   */
  since: string;
  /** The branch the last replayed step took ("timeout" makes an end `timed_out`). */
  lastOutcome: string | null;
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
  const seen = [triggerUuid];
  let since = initialScope.trigger.eventDate;
  let nodeId = definition.start ?? null;
  let seq = 1;
  let lastOutcome: string | null = null;
  for (;;) {
    const node = nodeId ? definition.nodes[nodeId] : undefined;
    const step = nodeId ? byNode.get(nodeId) : undefined;
    if (!nodeId || !node || step?.status !== "succeeded") {
      return { nodeId, seq, scope, lastEvent, seen, since, lastOutcome };
    }
    scope.nodes[nodeId] = { output: step.output };
    if (node.kind === "event" && isEventStepOutput(step.output) && step.output.event && step.output.eventUuid) {
      scope.event = step.output.event;
      lastEvent = { uuid: step.output.eventUuid, eventDate: step.output.event.eventDate };
      seen.push(step.output.eventUuid);
      since = step.output.event.eventDate;
    } else if (node.kind === "event" && node.timeoutSeconds) {
      // A timeout: the next wait counts from this one's deadline, not from when it was noticed.
      since = new Date(Date.parse(since) + node.timeoutSeconds * 1000).toISOString();
    } else if (node.kind === "action" && step.endedAt) {
      since = step.endedAt;
    }
    lastOutcome = step.outcome;
    nodeId = nextNodeId(node, step.outcome);
    seq += 1;
  }
}

/** Where a run stops next: an action to execute, an event node to wait at, or its end. */
export type Stop =
  | { kind: "action"; nodeId: string; seq: number; node: ActionNode }
  | { kind: "event"; nodeId: string; seq: number; node: EventNode }
  | { kind: "end"; status: "completed" | "timed_out" };

export interface Walk {
  /** Conditions evaluated on the way, to record. */
  conditions: Array<{ nodeId: string; seq: number; result: boolean }>;
  stop: Stop;
  scope: TemplateScope;
  lastEvent: { uuid: string; eventDate: string };
  seen: string[];
  since: string;
}

/**
 * Replays the recorded steps, then evaluates conditions (pure) until the run reaches
 * an action, an event node or the end of a branch. A wait that timed out into an
 * empty branch ends the run `timed_out`, not `completed`.
 */
export function walk(
  definition: WorkflowDefinition,
  steps: readonly RecordedStep[],
  initialScope: TemplateScope,
  triggerUuid: string,
): Walk {
  const position = replay(definition, steps, initialScope, triggerUuid);
  const { scope, lastEvent, seen, since } = position;
  const conditions: Walk["conditions"] = [];
  let { nodeId, seq, lastOutcome } = position;
  const at = { scope, lastEvent, seen, since };
  for (;;) {
    const node = nodeId ? definition.nodes[nodeId] : undefined;
    if (!nodeId || !node) {
      return {
        conditions,
        ...at,
        stop: { kind: "end", status: lastOutcome === "timeout" ? "timed_out" : "completed" },
      };
    }
    if (node.kind === "action") return { conditions, ...at, stop: { kind: "action", nodeId, seq, node } };
    if (node.kind === "event") return { conditions, ...at, stop: { kind: "event", nodeId, seq, node } };
    const result = evaluate(node.when, scope.event);
    conditions.push({ nodeId, seq, result });
    scope.nodes[nodeId] = { output: { result } };
    lastOutcome = result ? "true" : "false";
    nodeId = nextNodeId(node, lastOutcome);
    seq += 1;
  }
}

/** The asset an event node watches: the trigger's, or the one the named earlier event node received. */
export function waitAssetId(asset: string, scope: TemplateScope): string | null {
  if (asset === "trigger") return scope.trigger.id;
  const output = scope.nodes[asset]?.output;
  return isEventStepOutput(output) ? (output.event?.id ?? null) : null;
}
