/**
 * A dry run: the path a definition would take for a stored event, and the requests
 * its actions would send, without sending anything or writing anything. Pure apart
 * from reading secrets from the env (their values are redacted from the report).
 * Actions are assumed to succeed; an event node is resumed by the given resume event
 * when it matches, and otherwise takes its timeout path; a resume event that the
 * workflow's cancel-on rule matches ends the run cancelled there instead, as it would
 * arrive while the run waits (cancel wins over a resume, engine/cancel-on.ts).
 */
import type { EventFields } from "../okta/event-fields";
import { type ActionContext, redact, SecretReader } from "./actions/context";
import { prepareAction } from "./actions/execute";
import { cancelOnMatches } from "./cancel-on";
import type { WorkflowDefinition } from "./definition";
import { lateValues } from "./lateness";
import { evaluate, type Predicate } from "./predicate";
import type { TemplateScope } from "./template";
import { TemplateError } from "./template";
import { matchesTrigger } from "./trigger";

export interface DryRequest {
  method: string;
  /** Absent for Slack, whose webhook URL is itself the secret. */
  url?: string;
  label: string;
  headers: Array<[name: string, value: string]>;
  body?: string;
}

export type DryStep =
  | { nodeId: string; kind: "action"; name?: string; request?: DryRequest; error?: string }
  | { nodeId: string; kind: "condition"; name?: string; outcome: "true" | "false" }
  | {
      nodeId: string;
      kind: "event";
      name?: string;
      assetId: string | null;
      eventTypes: string[];
      filter?: Predicate;
      timeoutSeconds?: number;
      outcome: "next" | "timeout" | "waiting" | "cancelled";
    };

export type DryEnd = "not_triggered" | "completed" | "failed" | "timed_out" | "waiting" | "cancelled";

export interface DryRun {
  triggered: boolean;
  steps: DryStep[];
  end: DryEnd;
}

export interface DryEvent {
  uuid: string;
  fields: EventFields;
}

/** Runs `definition` on paper. `env` supplies secrets and OKTA_ORG_URL exactly as a real run reads them. */
export function dryRun(
  definition: WorkflowDefinition,
  input: { trigger: DryEvent; resume?: DryEvent; env: object; workflowId: string; startedAt?: string },
): DryRun {
  if (!matchesTrigger(definition.trigger, input.trigger.fields))
    return { triggered: false, steps: [], end: "not_triggered" };
  const scope: TemplateScope = {
    trigger: input.trigger.fields,
    event: input.trigger.fields,
    nodes: {},
    // A run started now: a replay's dry run of a day-old event shows the alert saying "26 h late".
    run: {
      id: "dry-run",
      workflowId: input.workflowId,
      ...lateValues(input.trigger.fields, input.startedAt ?? new Date().toISOString(), definition),
    },
  };
  const steps: DryStep[] = [];
  let resume = input.resume;
  // The validator refuses cycles, so the walk ends; the bound guards an unvalidated definition.
  let nodeId = definition.start ?? null;
  for (let hops = 0; nodeId && hops <= Object.keys(definition.nodes).length; hops++) {
    const node = definition.nodes[nodeId];
    if (!node) break;
    const name = node.name;
    if (node.kind === "action") {
      const ctx: ActionContext = { scope, env: input.env, idempotencyKey: `dry-run:${nodeId}` };
      const step = actionStep(nodeId, name, node.action, ctx);
      steps.push(step);
      if (step.error) return { triggered: true, steps, end: "failed" };
      scope.nodes[nodeId] = { output: { status: 200, body: "", truncated: false, attempts: 0, dryRun: true } };
      nodeId = node.next ?? null;
    } else if (node.kind === "condition") {
      const outcome = evaluate(node.when, scope.event) ? "true" : "false";
      steps.push({ nodeId, kind: "condition", name, outcome });
      nodeId = (outcome === "true" ? node.true : node.false) ?? null;
    } else {
      const assetId = node.asset === "trigger" ? scope.trigger.id : waitedAsset(scope, node.asset);
      const step = {
        nodeId,
        kind: "event",
        name,
        assetId,
        eventTypes: node.eventTypes,
        filter: node.filter,
        timeoutSeconds: node.timeoutSeconds,
      } as const;
      if (resume && cancels(definition, input.trigger, resume)) {
        steps.push({ ...step, outcome: "cancelled" });
        return { triggered: true, steps, end: "cancelled" };
      }
      const matches =
        resume !== undefined &&
        resume.fields.id === assetId &&
        (node.eventTypes.length === 0 || node.eventTypes.some((type) => type === resume?.fields.eventType)) &&
        (node.filter === undefined || evaluate(node.filter, resume.fields));
      const outcome = matches ? "next" : node.timeoutSeconds ? "timeout" : "waiting";
      steps.push({ ...step, outcome });
      if (outcome === "waiting") return { triggered: true, steps, end: "waiting" };
      if (outcome === "next" && resume) {
        scope.event = resume.fields;
        scope.nodes[nodeId] = { output: { event: resume.fields, eventUuid: resume.uuid, timedOut: false } };
        resume = undefined;
        nodeId = node.next ?? null;
      } else {
        scope.nodes[nodeId] = { output: { event: null, eventUuid: null, timedOut: true } };
        if (!node.onTimeout) return { triggered: true, steps, end: "timed_out" };
        nodeId = node.onTimeout;
      }
    }
  }
  return { triggered: true, steps, end: "completed" };
}

/** Whether the workflow's cancel-on ends a run of `trigger` when `event` arrives (db/cancel-runs.ts's rule). */
function cancels(definition: WorkflowDefinition, trigger: DryEvent, event: DryEvent): boolean {
  return (
    definition.cancelOn !== undefined &&
    cancelOnMatches(definition.cancelOn, event.fields) &&
    event.uuid !== trigger.uuid &&
    event.fields.id === trigger.fields.id &&
    (event.fields.source ?? null) === (trigger.fields.source ?? null) &&
    event.fields.eventDate >= trigger.fields.eventDate
  );
}

function waitedAsset(scope: TemplateScope, nodeId: string): string | null {
  const output = scope.nodes[nodeId]?.output;
  if (typeof output !== "object" || output === null || !("event" in output)) return null;
  const event = output.event;
  return typeof event === "object" && event !== null && "id" in event && typeof event.id === "string" ? event.id : null;
}

function actionStep(
  nodeId: string,
  name: string | undefined,
  action: Parameters<typeof prepareAction>[0],
  ctx: ActionContext,
): Extract<DryStep, { kind: "action" }> {
  const secrets = new SecretReader(ctx.env);
  try {
    const prepared = prepareAction(action, ctx, secrets);
    if (!prepared.ok) {
      const error = prepared.outcome.status === "failed" ? prepared.outcome.error : "not prepared";
      return { nodeId, kind: "action", name, error: redact(error, secrets.values) };
    }
    const { request } = prepared;
    const hide = (text: string) => redact(text, request.secrets);
    return {
      nodeId,
      kind: "action",
      name,
      request: {
        method: request.method,
        url: request.showUrl ? hide(request.url) : undefined,
        label: hide(request.label),
        headers: [...request.headers].map(([header, value]) => [header, hide(value)]),
        body: request.body === undefined ? undefined : hide(request.body),
      },
    };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { nodeId, kind: "action", name, error: redact(err.message, secrets.values) };
  }
}
