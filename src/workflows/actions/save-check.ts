/**
 * The outbound policy applied to a definition when it is saved, so that an author
 * learns at once, with the exact field, what a run would refuse later: a secret that
 * is not declared, is the service's own, or may not go to the action's origin, and
 * an action aimed at the Worker itself. Pure; the same rules run again at run time.
 */
import type { WorkflowNode } from "../definition";
import type { DefinitionIssue } from "../validate";
import { httpUrl } from "./context";
import { type OutboundPolicy, secretUseError, selfTargetError } from "./outbound-policy";
import type { Action } from "./spec";
import { splitUrlTemplate } from "./url-template";

function actionIssues(action: Action, base: string, policy: OutboundPolicy, env: object, self: readonly string[]) {
  const issues: DefinitionIssue[] = [];
  const refuse = (path: string, message: string | null) => {
    if (message) issues.push({ path: `${base}.${path}`, message });
  };
  switch (action.type) {
    case "http": {
      const split = splitUrlTemplate(action.url);
      const origin = "error" in split ? null : new URL(split.origin);
      if (origin) refuse("url", selfTargetError(origin, self));
      for (const [name, value] of Object.entries(action.headers ?? {})) {
        if (typeof value === "string") continue;
        const refused = secretUseError(policy, value.secret, "http", null);
        refuse(`headers.${name}.secret`, refused);
        if (!refused && origin) refuse("url", secretUseError(policy, value.secret, "http", origin));
      }
      break;
    }
    case "slack": {
      const name = action.webhook.secret;
      const refused = secretUseError(policy, name, "slack", null);
      refuse("webhook.secret", refused);
      // The URL is the secret: when it is already set, check where it points now rather than at the first run.
      const value: unknown = Reflect.get(env, name);
      const url = !refused && typeof value === "string" ? httpUrl(value) : null;
      if (url) refuse("webhook.secret", secretUseError(policy, name, "slack", url));
      break;
    }
    case "okta":
      refuse("apiToken.secret", secretUseError(policy, action.apiToken.secret, "okta", null));
      break;
  }
  return issues;
}

/** Every policy violation among `nodes`, each with the exact path of its field. `self` holds the Worker's own origins. */
export function policyIssues(
  nodes: ReadonlyMap<string, WorkflowNode>,
  policy: OutboundPolicy,
  env: object,
  self: readonly string[],
): DefinitionIssue[] {
  return [...nodes].flatMap(([id, node]) =>
    node.kind === "action" ? actionIssues(node.action, `nodes.${id}.action`, policy, env, self) : [],
  );
}
