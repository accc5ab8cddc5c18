/** One-line wordings of a definition's parts for the diagram and the dry run: predicates, actions, waits. Pure. */
import type { Action } from "../../workflows/actions/spec";
import type { WorkflowNode } from "../../workflows/definition";
import type { Predicate } from "../../workflows/predicate";
import type { Threshold } from "../../workflows/threshold";
import { eventTypeName, formatDuration } from "../format";

const OPS = { eq: "=", neq: "≠", contains: "contains", startsWith: "starts with" } as const;

export function describePredicate(p: Predicate): string {
  if ("and" in p) return p.and.map(describePredicate).join(" and ");
  if ("or" in p) return p.or.map(describePredicate).join(" or ");
  if ("not" in p) return `not (${describePredicate(p.not)})`;
  switch (p.op) {
    case "exists":
      return `${p.field} exists`;
    case "in":
      return `${p.field} in ${p.values.join(", ")}`;
    default:
      return `${p.field} ${OPS[p.op]} ${p.value}`;
  }
}

export function describeAction(action: Action): string {
  switch (action.type) {
    case "slack":
      return `Slack via ${action.webhook.secret}`;
    case "http":
      return `${action.method} ${action.url.replace(/^https?:\/\//, "")}`;
    case "okta":
      return `Okta API: ${action.operation}`;
  }
}

/** "≥ 5 within 10 min per client.ipAddress", or "≥ 3 distinct actor.id within 1 h per type". */
export function describeThreshold(threshold: Threshold): string {
  const what = threshold.distinct ? `${threshold.count} distinct ${threshold.distinct}` : `${threshold.count}`;
  return `≥ ${what} within ${formatDuration(threshold.withinSeconds * 1000)} per ${threshold.by}`;
}

/** "Import complete, Import roadblocks" or "any System Category event". */
export function describeTypes(types: readonly string[]): string {
  return types.length === 0 ? "any System Category event" : types.map(eventTypeName).join(", ");
}

/** The lines under a node's title. */
export function nodeDetails(node: WorkflowNode): string[] {
  switch (node.kind) {
    case "action":
      return [describeAction(node.action)];
    case "condition":
      return [`if ${describePredicate(node.when)}`];
    case "event":
      return [
        `waits for ${describeTypes(node.eventTypes)}`,
        [
          node.filter ? `where ${describePredicate(node.filter)}` : null,
          node.asset === "trigger" ? "on the trigger's asset" : `on ${node.asset}'s asset`,
          node.timeoutSeconds ? `timeout ${formatDuration(node.timeoutSeconds * 1000)}` : "no timeout",
        ]
          .filter(Boolean)
          .join(" · "),
      ];
  }
}
