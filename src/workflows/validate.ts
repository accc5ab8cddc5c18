/**
 * Checks a definition beyond its shape: every reference resolves, the graph has no
 * cycle and no unreachable node, templates name real nodes and Event Fields. Pure;
 * each message names the node so the author can find it.
 */
import { describeIssue } from "../validation";
import { secretNames } from "./actions/spec";
import { edgesOf, WorkflowDefinition } from "./definition";
import { checkTemplatePaths, jsonTemplateReferences } from "./template";

export type ParseResult = { ok: true; definition: WorkflowDefinition } | { ok: false; error: string };

/** Parses and validates a definition as received from a user or read back from storage. */
export function parseDefinition(input: unknown): ParseResult {
  const parsed = WorkflowDefinition.safeParse(input);
  if (!parsed.success) return { ok: false, error: describeIssue(parsed.error) };
  const error = graphError(parsed.data) ?? referenceError(parsed.data);
  return error ? { ok: false, error } : { ok: true, definition: parsed.data };
}

function graphError(definition: WorkflowDefinition): string | null {
  const { nodes, start } = definition;
  if (start != null && !nodes[start]) return `start: refers to unknown node '${start}'`;
  for (const [id, node] of Object.entries(nodes)) {
    for (const [label, target] of edgesOf(node)) {
      if (!nodes[target]) return `nodes.${id}.${label}: refers to unknown node '${target}'`;
    }
    if (node.kind === "event" && node.asset !== "trigger") {
      const source = nodes[node.asset];
      if (!source) return `nodes.${id}.asset: refers to unknown node '${node.asset}'`;
      if (source.kind !== "event") return `nodes.${id}.asset: node '${node.asset}' is not an event node`;
    }
  }
  const cycle = findCycle(definition);
  if (cycle) return `nodes: cycle ${cycle.join(" -> ")}`;
  const reachable = reachableFrom(definition);
  const unreachable = Object.keys(nodes).find((id) => !reachable.has(id));
  if (unreachable) return `nodes.${unreachable}: unreachable from start`;
  return null;
}

function reachableFrom(definition: WorkflowDefinition): Set<string> {
  const seen = new Set<string>();
  const stack = definition.start ? [definition.start] : [];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    const node = definition.nodes[id];
    if (seen.has(id) || !node) continue;
    seen.add(id);
    for (const [, target] of edgesOf(node)) stack.push(target);
  }
  return seen;
}

/** Depth-first search; returns the path of the first cycle found. */
function findCycle(definition: WorkflowDefinition): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): string[] | null => {
    if (state.get(id) === "visiting") return [...path.slice(path.indexOf(id)), id];
    if (state.get(id) === "done") return null;
    state.set(id, "visiting");
    const node = definition.nodes[id];
    for (const [, target] of node ? edgesOf(node) : []) {
      const cycle = visit(target, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, "done");
    return null;
  };
  for (const id of Object.keys(definition.nodes)) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return null;
}

/** Templates may only read the trigger, the current event, earlier nodes and the run. */
function referenceError(definition: WorkflowDefinition): string | null {
  const nodeIds = new Set(Object.keys(definition.nodes));
  for (const [id, node] of Object.entries(definition.nodes)) {
    if (node.kind !== "action") continue;
    const error = checkTemplatePaths(jsonTemplateReferences(node.action), nodeIds);
    if (error) return `nodes.${id}.action: ${error}`;
    const badSecret = secretNames(node.action).find((name) => !/^[A-Z][A-Z0-9_]*$/.test(name));
    if (badSecret) return `nodes.${id}.action: '${badSecret}' is not a Worker secret name`;
  }
  return null;
}
