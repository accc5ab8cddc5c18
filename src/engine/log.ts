/** Structured log lines the engine writes (one JSON object a line, for `wrangler tail` and Workers Logs). */
import type { RunRow } from "../db/schema";

/** One warning per failed run: which workflow, which run, which node, and why. */
export function logRunFailed(run: Pick<RunRow, "id" | "workflowId">, nodeId: string | null, reason: string): void {
  console.warn(JSON.stringify({ msg: "run failed", workflowId: run.workflowId, runId: run.id, nodeId, reason }));
}
