/** Structured log lines the engine writes (one JSON object a line, for `wrangler tail` and Workers Logs). */
import type { RunRow } from "../db/schema";

/** One warning per failed run: which workflow, which run, which node, and why. */
export function logRunFailed(run: Pick<RunRow, "id" | "workflowId">, nodeId: string | null, reason: string): void {
  console.warn(JSON.stringify({ msg: "run failed", workflowId: run.workflowId, runId: run.id, nodeId, reason }));
}

/** One line per step a run takes (a condition decided, an action's outcome, a pause), for following a run in the logs. */
export function logRunStep(
  run: Pick<RunRow, "id" | "workflowId">,
  step: { nodeId: string; kind: "action" | "condition" | "event"; outcome: string } & Record<
    string,
    string | number | null
  >,
): void {
  console.log(JSON.stringify({ msg: "run step", workflowId: run.workflowId, runId: run.id, ...step }));
}

/** A run reached the end of its path (completed, or timed out along a timeout branch). */
export function logRunEnded(run: Pick<RunRow, "id" | "workflowId">, status: string): void {
  console.log(JSON.stringify({ msg: "run ended", workflowId: run.workflowId, runId: run.id, status }));
}
