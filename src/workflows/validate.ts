/**
 * Checks a definition beyond its shape: every reference resolves, the graph has no
 * cycle and no unreachable node, templates name real nodes and Event Fields. Pure.
 * Every problem is reported at once, each with the exact path of its field
 * (`nodes.a.action.url`), so an author fixes a definition in one round trip.
 * Lookups use a Map of the definition's own nodes: a reference named `constructor`
 * is unknown, not an Object.prototype member. Nothing recurses over author data.
 */
import { describeIssues } from "../validation";
import { edgesOf, WorkflowDefinition, WorkflowNode } from "./definition";
import { depthError } from "./limits";
import { templatePathError, templateReferences } from "./template";

export type DefinitionIssue = { path: string; message: string };
export type ParseResult =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; error: string; issues: DefinitionIssue[] };

/** One message listing every issue as `path: message`. */
export function describeDefinitionIssues(issues: readonly DefinitionIssue[]): string {
  const lines = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  return lines.length === 1 ? (lines[0] ?? "") : `${lines.length} problems: ${lines.join("; ")}`;
}

export function failure(issues: DefinitionIssue[]): ParseResult {
  return { ok: false, error: describeDefinitionIssues(issues), issues };
}

/** More checks on the definition's valid nodes (the outbound policy, at save). */
export type NodeChecks = (nodes: ReadonlyMap<string, WorkflowNode>) => DefinitionIssue[];

/** Parses and validates a definition as received from a user or read back from storage. */
export function parseDefinition(input: unknown, moreChecks?: NodeChecks): ParseResult {
  const tooDeep = depthError(input);
  if (tooDeep) return failure([{ path: "", message: tooDeep }]);
  const parsed = WorkflowDefinition.safeParse(input);
  if (parsed.success) {
    const nodes = new Map(Object.entries(parsed.data.nodes));
    const issues = [
      ...graphIssues(parsed.data.start, nodes, new Set(nodes.keys()), true),
      ...templateIssues(nodes, parsed.data.trigger.threshold !== undefined),
      ...suppressKeyIssues(parsed.data),
      ...(moreChecks?.(nodes) ?? []),
    ];
    return issues.length > 0 ? failure(issues) : { ok: true, definition: parsed.data };
  }
  // The shape is wrong somewhere: still report what the valid nodes get wrong, so one round trip shows every problem.
  const { start, nodes, ids } = validNodes(input);
  return failure([
    ...describeIssues(parsed.error),
    ...graphIssues(start, nodes, ids, false),
    ...templateIssues(nodes, true),
    ...(moreChecks?.(nodes) ?? []),
  ]);
}

/** The nodes of a definition whose shape is invalid that are valid on their own, and every node id it has. */
function validNodes(input: unknown) {
  const nodes = new Map<string, WorkflowNode>();
  const ids = new Set<string>();
  const raw: unknown = typeof input === "object" && input !== null ? Reflect.get(input, "nodes") : undefined;
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    for (const [id, value] of Object.entries(raw)) {
      ids.add(id);
      const node = WorkflowNode.safeParse(value);
      if (node.success) nodes.set(id, node.data);
    }
  }
  const start: unknown = typeof input === "object" && input !== null ? Reflect.get(input, "start") : undefined;
  return { start: typeof start === "string" ? start : null, nodes, ids };
}

/**
 * References to unknown nodes; then, when the whole shape is valid (`complete`), a
 * cycle and unreachable nodes. `ids` holds every node id written, valid or not.
 */
function graphIssues(
  start: string | null | undefined,
  nodes: ReadonlyMap<string, WorkflowNode>,
  ids: ReadonlySet<string>,
  complete: boolean,
): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  if (start != null && !ids.has(start)) issues.push({ path: "start", message: `refers to unknown node '${start}'` });
  for (const [id, node] of nodes) {
    for (const [label, target] of edgesOf(node)) {
      if (!ids.has(target))
        issues.push({ path: `nodes.${id}.${label}`, message: `refers to unknown node '${target}'` });
    }
    if (node.kind === "event" && node.asset !== "trigger") {
      const source = nodes.get(node.asset);
      if (!ids.has(node.asset)) {
        issues.push({ path: `nodes.${id}.asset`, message: `refers to unknown node '${node.asset}'` });
      } else if (source && source.kind !== "event") {
        issues.push({ path: `nodes.${id}.asset`, message: `node '${node.asset}' is not an event node` });
      }
    }
  }
  if (issues.length > 0 || !complete) return issues;
  const cycle = findCycle(nodes);
  if (cycle) return [{ path: "nodes", message: `cycle ${cycle.join(" -> ")}` }];
  const reachable = reachableFrom(start, nodes);
  for (const id of nodes.keys()) {
    if (!reachable.has(id)) issues.push({ path: `nodes.${id}`, message: "unreachable from start" });
  }
  return issues;
}

function reachableFrom(start: string | null | undefined, nodes: ReadonlyMap<string, WorkflowNode>): Set<string> {
  const seen = new Set<string>();
  const stack = start ? [start] : [];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    const node = nodes.get(id);
    if (seen.has(id) || !node) continue;
    seen.add(id);
    for (const [, target] of edgesOf(node)) stack.push(target);
  }
  return seen;
}

/** Depth-first search with an explicit stack (a 10,000-node chain must not overflow); returns the first cycle's path. */
function findCycle(nodes: ReadonlyMap<string, WorkflowNode>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  for (const root of nodes.keys()) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const stack: Array<{ id: string; targets: string[] }> = [];
    const enter = (id: string) => {
      state.set(id, "visiting");
      path.push(id);
      const node = nodes.get(id);
      stack.push({ id, targets: node ? edgesOf(node).map(([, target]) => target) : [] });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (!top) break;
      const next = top.targets.shift();
      if (next === undefined) {
        state.set(top.id, "done");
        stack.pop();
        path.pop();
      } else if (state.get(next) === "visiting") {
        return [...path.slice(path.indexOf(next)), next];
      } else if (!state.has(next) && nodes.has(next)) {
        enter(next);
      }
    }
  }
  return null;
}

/** Every string in an action with its path, found without recursion. */
function stringsWithPaths(value: unknown, base: string): Array<[path: string, text: string]> {
  const found: Array<[string, string]> = [];
  const stack: Array<[string, unknown]> = [[base, value]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [path, node] = item;
    if (typeof node === "string") found.push([path, node]);
    else if (Array.isArray(node))
      node.forEach((child, index) => {
        stack.push([`${path}[${index}]`, child]);
      });
    else if (typeof node === "object" && node !== null) {
      for (const [key, child] of Object.entries(node)) stack.push([`${path}.${key}`, child]);
    }
  }
  return found.reverse();
}

/** `{{ count.key }}` in a suppression key is there only when a threshold trigger started the run. */
function suppressKeyIssues(definition: WorkflowDefinition): DefinitionIssue[] {
  const key = definition.suppress?.key;
  if (!key || definition.trigger.threshold || !templateReferences(key).includes("count.key")) return [];
  return [{ path: "suppress.key", message: "{{ count.key }}: only a run a threshold trigger started has a count" }];
}

/**
 * Templates may only read the trigger, the current event, earlier nodes, the run, and
 * (with a threshold trigger: `counting`) the count; each problem names its field.
 */
function templateIssues(nodes: ReadonlyMap<string, WorkflowNode>, counting: boolean): DefinitionIssue[] {
  const nodeIds = new Set(nodes.keys());
  const issues: DefinitionIssue[] = [];
  for (const [id, node] of nodes) {
    if (node.kind !== "action") continue;
    for (const [path, text] of stringsWithPaths(node.action, `nodes.${id}.action`)) {
      for (const reference of templateReferences(text)) {
        const error =
          templatePathError(reference, nodeIds) ??
          (!counting && /^count(\.|\[|$)/.test(reference)
            ? `{{ ${reference} }}: only a run a threshold trigger started has a count (add trigger.threshold)`
            : null);
        if (error) issues.push({ path, message: error });
      }
    }
  }
  return issues;
}
