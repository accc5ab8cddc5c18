/** Structured log lines the engine writes (one JSON object a line, for `wrangler tail` and Workers Logs). */
import type { RunRow } from "../db/schema";

/** One warning per failed run: which workflow, which run, which node, and why. */
export function logRunFailed(run: Pick<RunRow, "id" | "workflowId">, nodeId: string | null, reason: string): void {
  console.warn(JSON.stringify({ msg: "run failed", workflowId: run.workflowId, runId: run.id, nodeId, reason }));
}

/**
 * One line per batch of runs the consumer executed, with what they did: runs held,
 * actions called, and how many completed, timed out, failed, paused or were deferred.
 * Per batch, not per step: a line per step of hundreds of runs in one invocation
 * stalls the local runtime (workerd under Miniflare or `wrangler dev`), and each run's
 * steps are in D1 (the runs API, the dashboard) anyway. Failures get a line each above.
 */
export function logRunsExecuted(runs: number, counts: Record<string, number>): void {
  console.log(JSON.stringify({ msg: "runs executed", runs, ...counts }));
}

/** One line per batch of events whose cancel-on rules ended runs: how many, and by which events. */
export function logRunsCancelled(runIds: readonly string[], eventUuids: readonly string[]): void {
  if (runIds.length === 0) return;
  console.log(JSON.stringify({ msg: "runs cancelled", runs: runIds.length, runIds, events: eventUuids }));
}
