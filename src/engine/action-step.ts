/**
 * Executing an action node: record the attempt, call out, record the outcome. A
 * retryable failure defers the run through the queue (a few times), a permanent one
 * fails it with the reason.
 */
import { finishRun, finishStep, noteStepError, renewLease, startStep } from "../db/runs";
import type { RunRow } from "../db/schema";
import { type ActionOutput, executeAction } from "../workflows/actions/execute";
import type { ActionNode } from "../workflows/definition";
import type { TemplateScope } from "../workflows/template";
import { LEASE_MS } from "./lease";
import type { AdvanceResult, EngineDeps } from "./types";

/** Deliveries of a run message that may retry the same failing action before the run fails. */
export const MAX_ACTION_ATTEMPTS = 5;
/** Cloudflare Queues delay a retry by at most 12 hours. */
const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;

export type ActionStepResult = { kind: "succeeded"; output: ActionOutput } | { kind: "stop"; result: AdvanceResult };

export async function runActionStep(
  deps: EngineDeps,
  run: RunRow,
  step: { nodeId: string; seq: number; node: ActionNode },
  scope: TemplateScope,
): Promise<ActionStepResult> {
  const { db, now } = deps;
  const key = { runId: run.id, nodeId: step.nodeId };
  // An admin may have terminated the run while earlier steps ran.
  if (!(await renewLease(db, run.id, new Date(now().getTime() + LEASE_MS)))) {
    return { kind: "stop", result: { kind: "settled" } };
  }
  const attempts = await startStep(db, { ...key, seq: step.seq, kind: "action" }, now());
  const outcome = await executeAction(step.node.action, {
    scope,
    env: deps.env,
    idempotencyKey: `${run.id}:${step.nodeId}`,
  });
  if (outcome.status === "succeeded") {
    await finishStep(db, key, { status: "succeeded", outcome: "next", output: outcome.output }, now());
    return { kind: "succeeded", output: outcome.output };
  }
  if (outcome.retryable && attempts < MAX_ACTION_ATTEMPTS) {
    await noteStepError(db, key, outcome.error);
    const delay = outcome.retryAfterSeconds ?? 30 * attempts;
    return {
      kind: "stop",
      result: { kind: "retry", delaySeconds: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delay)) },
    };
  }
  await finishStep(db, key, { status: "failed", outcome: null, error: outcome.error }, now());
  await finishRun(db, run.id, "failed", now(), `node ${step.nodeId}: ${outcome.error}`);
  return { kind: "stop", result: { kind: "settled" } };
}
