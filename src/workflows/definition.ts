/**
 * A workflow definition: data, validated with zod when saved and stored per version.
 * The trigger says which Okta System Category events start a run; `nodes` is a graph
 * entered at `start`, where every edge names the next node and null (or absent)
 * ends the run as completed.
 */
import { z } from "@hono/zod-openapi";
import { Action } from "./actions/spec";
import { CancelOn } from "./cancel-on";
import { EventTypes } from "./event-type-schema";
import { MAX_NODES } from "./limits";
import { Predicate } from "./predicate";
import { Suppression } from "./suppression";
import { Threshold } from "./threshold";

const NodeId = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "node ids are 1-64 letters, digits, '_' or '-', starting with a letter");

/** An edge: the id of the next node, or null/absent for "end the run here". */
const Edge = NodeId.nullish();

export const Trigger = z
  .strictObject({
    category: z.literal("okta.system").default("okta.system"),
    /** Empty means all 13 System Category types. */
    eventTypes: EventTypes,
    filter: Predicate.optional(),
    /** Start a run only when enough matching events per key fall within a window (threshold.ts). */
    threshold: Threshold.optional(),
  })
  .openapi("Trigger");
export type Trigger = z.infer<typeof Trigger>;

export const ActionNode = z.strictObject({
  kind: z.literal("action"),
  name: z.string().max(200).optional(),
  action: Action,
  next: Edge,
});

export const ConditionNode = z.strictObject({
  kind: z.literal("condition"),
  name: z.string().max(200).optional(),
  /** Tested against the current event: the trigger, or the event that resumed the run. */
  when: Predicate,
  true: Edge,
  false: Edge,
});

/** Pauses the run until a later System Category event on the same asset, or the timeout. */
export const EventNode = z.strictObject({
  kind: z.literal("event"),
  name: z.string().max(200).optional(),
  /** Empty means any of the 13 types. */
  eventTypes: EventTypes,
  filter: Predicate.optional(),
  /** Which asset to watch: the trigger's (default) or the one an earlier event node received. */
  asset: z.union([z.literal("trigger"), NodeId]).default("trigger"),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .optional(),
  next: Edge,
  /** Taken when the timeout fires first; without it the run ends `timed_out`. */
  onTimeout: Edge,
});

export type ActionNode = z.infer<typeof ActionNode>;
export type EventNode = z.infer<typeof EventNode>;

export const WorkflowNode = z.discriminatedUnion("kind", [ActionNode, ConditionNode, EventNode]);
export type WorkflowNode = z.infer<typeof WorkflowNode>;

export const WorkflowDefinition = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    trigger: Trigger,
    /**
     * A run whose trigger event was published more than this long before the run started
     * is marked late (API, dashboard, `{{ run.late }}`); default one hour.
     */
    lateAfterSeconds: z
      .number()
      .int()
      .min(1)
      .max(365 * 24 * 3600)
      .optional()
      .openapi({ description: "Seconds after the event's published time a run counts as late (default 3600)" }),
    /**
     * At most one run per rendered key per period (workflows/suppression.ts); a match
     * inside the window starts no run and is counted on the run that fired.
     */
    suppress: Suppression.optional(),
    /** Ends the workflow's active runs on the trigger's asset when a matching later event arrives (cancel-on.ts). */
    cancelOn: CancelOn.optional(),
    /** The first node; null for a workflow that only records matching events as completed runs. */
    start: Edge,
    nodes: z
      .record(NodeId, WorkflowNode)
      .refine((nodes) => Object.keys(nodes).length <= MAX_NODES, `at most ${MAX_NODES} nodes`)
      .default({}),
  })
  .openapi("WorkflowDefinition");
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;

/** The edges leaving a node, with the label of each (for validation and for drawing the path). */
export function edgesOf(node: WorkflowNode): Array<[label: string, target: string]> {
  const edges: Array<[string, string | null | undefined]> =
    node.kind === "action"
      ? [["next", node.next]]
      : node.kind === "condition"
        ? [
            ["true", node.true],
            ["false", node.false],
          ]
        : [
            ["next", node.next],
            ["onTimeout", node.onTimeout],
          ];
  return edges.filter((edge): edge is [string, string] => edge[1] != null);
}

/** The event types the definition's event nodes wait for; "*" stands for any of the 13. */
export function waitedEventTypes(definition: WorkflowDefinition): string[] {
  const types = new Set<string>();
  for (const node of Object.values(definition.nodes)) {
    if (node.kind !== "event") continue;
    for (const type of node.eventTypes.length > 0 ? node.eventTypes : ["*"]) types.add(type);
  }
  return [...types];
}
