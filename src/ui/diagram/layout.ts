/**
 * Lays a workflow out as a graph with dagre: the trigger on top, then every node, with
 * a small "end" mark for each empty branch. Marks the path a run took, the edges it
 * followed and the node it waits at. Pure: data in, coordinates out.
 */
import { Graph, layout } from "@dagrejs/dagre";
import { edgesOf, type WorkflowDefinition } from "../../workflows/definition";
import { describePredicate, describeThreshold, describeTypes, nodeDetails } from "./describe";

export type NodeKind = "trigger" | "action" | "condition" | "event" | "end";

export interface PlacedNode {
  id: string;
  kind: NodeKind;
  title: string;
  details: string[];
  x: number;
  y: number;
  width: number;
  height: number;
  state: "idle" | "visited" | "failed" | "waiting";
}

export interface PlacedEdge {
  from: string;
  to: string;
  label: string;
  points: Array<{ x: number; y: number }>;
  labelAt: { x: number; y: number } | null;
  taken: boolean;
}

export interface Diagram {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** What a run did: its steps in order, and the node it waits at, if any. */
export interface RunMarks {
  steps: ReadonlyArray<{ nodeId: string; status: string; outcome: string | null }>;
  waitingAt: string | null;
}

export const TRIGGER_ID = "__trigger";
const NODE_WIDTH = 260;
const END_SIZE = 28;

const EDGE_LABELS: Record<string, string> = { true: "True", false: "False", onTimeout: "Timeout", next: "" };
/** A step's recorded outcome names the edge it left by. */
const OUTCOME_EDGE: Record<string, string> = { next: "next", true: "true", false: "false", timeout: "onTimeout" };

/** What starts a run and, for a workflow with cancel-on, what ends it from outside the graph. */
function triggerDetails(definition: WorkflowDefinition): string[] {
  const { trigger, cancelOn } = definition;
  return [
    describeTypes(trigger.eventTypes),
    ...(trigger.filter ? [`where ${describePredicate(trigger.filter)}`] : []),
    ...(trigger.threshold ? [describeThreshold(trigger.threshold)] : []),
    ...(cancelOn
      ? [
          `cancelled by ${describeTypes(cancelOn.eventTypes)}`,
          ...(cancelOn.filter ? [`where ${describePredicate(cancelOn.filter)}`] : []),
        ]
      : []),
  ];
}

export function layoutWorkflow(definition: WorkflowDefinition, marks?: RunMarks): Diagram {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 46, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));

  const steps = new Map((marks?.steps ?? []).map((step) => [step.nodeId, step]));
  const nodes = new Map<string, Omit<PlacedNode, "x" | "y">>();
  const add = (node: Omit<PlacedNode, "x" | "y">) => {
    nodes.set(node.id, node);
    graph.setNode(node.id, { width: node.width, height: node.height });
  };
  // Kind label, title, then one 16 px line per detail (svg.tsx places them).
  const heightFor = (lines: number) => 42 + lines * 16;

  const triggerLines = triggerDetails(definition);
  add({
    id: TRIGGER_ID,
    kind: "trigger",
    title: "Trigger",
    details: triggerLines,
    width: NODE_WIDTH,
    height: heightFor(triggerLines.length),
    state: marks ? "visited" : "idle",
  });
  for (const [id, node] of Object.entries(definition.nodes)) {
    const details = nodeDetails(node);
    const step = steps.get(id);
    const state =
      marks?.waitingAt === id
        ? "waiting"
        : step?.status === "failed"
          ? "failed"
          : step && step.status !== "running"
            ? "visited"
            : step
              ? "waiting"
              : "idle";
    add({
      id,
      kind: node.kind,
      title: node.name ? `${node.name}` : id,
      details,
      width: NODE_WIDTH,
      height: heightFor(details.length),
      state,
    });
  }

  const edges: Array<Omit<PlacedEdge, "points" | "labelAt"> & { name: string }> = [];
  const connect = (from: string, to: string | null, label: string, taken: boolean) => {
    let target = to;
    if (target === null) {
      target = `__end:${from}:${label}`;
      add({
        id: target,
        kind: "end",
        title: "End",
        details: [],
        width: END_SIZE,
        height: END_SIZE,
        state: taken ? "visited" : "idle",
      });
    }
    const text = EDGE_LABELS[label] ?? label;
    const name = `${from}:${label}`;
    graph.setEdge(
      from,
      target,
      { label: text, width: text ? text.length * 7 + 8 : 0, height: text ? 16 : 0, labelpos: "c" },
      name,
    );
    edges.push({ from, to: target, label: text, taken, name });
  };

  connect(TRIGGER_ID, definition.start ?? null, "next", marks !== undefined);
  for (const [id, node] of Object.entries(definition.nodes)) {
    const step = steps.get(id);
    const takenEdge = step?.status === "succeeded" && step.outcome ? OUTCOME_EDGE[step.outcome] : undefined;
    const present = new Set(edgesOf(node).map(([label]) => label));
    const all: Array<[string, string | null]> =
      node.kind === "action"
        ? [["next", node.next ?? null]]
        : node.kind === "condition"
          ? [
              ["true", node.true ?? null],
              ["false", node.false ?? null],
            ]
          : [
              ["next", node.next ?? null],
              // An event node without a timeout has no timeout branch to draw.
              ...(node.timeoutSeconds || present.has("onTimeout")
                ? [["onTimeout", node.onTimeout ?? null] as [string, string | null]]
                : []),
            ];
    for (const [label, target] of all) connect(id, target, label, takenEdge === label);
  }

  layout(graph);

  const placed = [...nodes.values()].map((node) => {
    const at = graph.node(node.id);
    return { ...node, x: at.x - node.width / 2, y: at.y - node.height / 2 };
  });
  const placedEdges = edges.map(({ name, ...edge }) => {
    const label = graph.edge(edge.from, edge.to, name);
    return {
      ...edge,
      points: label?.points ?? [],
      labelAt:
        edge.label && label && typeof label.x === "number" && typeof label.y === "number"
          ? { x: label.x, y: label.y }
          : null,
    };
  });
  const size = graph.graph();
  return { nodes: placed, edges: placedEdges, width: size.width ?? 0, height: size.height ?? 0 };
}
