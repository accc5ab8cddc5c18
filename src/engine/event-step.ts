/**
 * Reaching an event node: register the wait with the asset's WaitRoom, then record
 * the pause in D1. The WaitRoom comes first: if the D1 write fails, the retry finds
 * the wait already there (wait() is idempotent) instead of losing it.
 */
import { finishRun, finishStep, pauseRun, startStep } from "../db/runs";
import type { RunRow } from "../db/schema";
import type { Resolution } from "../durable/wait-messages";
import { waitRoomFor } from "../durable/wait-rooms";
import type { EventNode } from "../workflows/definition";
import type { TemplateScope } from "../workflows/template";
import type { EngineDeps } from "./types";
import { waitAssetId } from "./walk";

export type EventStepResult =
  /** The run now waits; the WaitRoom resumes it. */
  | { kind: "paused" }
  /** The wait was already decided (a buffered event, or an earlier attempt's wait). */
  | { kind: "resolved"; resolution: Exclude<Resolution, { kind: "cancelled" }> }
  /** The run cannot wait (no asset) or was terminated: nothing more to do. */
  | { kind: "ended" };

export async function waitAtEventNode(
  deps: EngineDeps,
  run: RunRow,
  step: { nodeId: string; seq: number; node: EventNode },
  scope: TemplateScope,
  lastEvent: { uuid: string; eventDate: string },
): Promise<EventStepResult> {
  const { db, now } = deps;
  const { nodeId, node } = step;
  const key = { runId: run.id, nodeId };
  const assetId = waitAssetId(node.asset, scope);
  if (!assetId) {
    const error = `no asset ID to wait on (asset: ${node.asset})`;
    await startStep(db, { ...key, seq: step.seq, kind: "event" }, now());
    await finishStep(db, key, { status: "failed", outcome: null, error }, now());
    await finishRun(db, run.id, "failed", now(), `node ${nodeId}: ${error}`);
    return { kind: "ended" };
  }
  const wait = await waitRoomFor(deps.env, assetId).wait({
    runId: run.id,
    nodeId,
    workflowId: run.workflowId,
    assetId,
    eventTypes: node.eventTypes,
    filter: node.filter ?? null,
    after: lastEvent,
    deadline: node.timeoutSeconds ? now().getTime() + node.timeoutSeconds * 1000 : null,
  });
  if (wait.state === "resolved") {
    return wait.resolution.kind === "cancelled" ? { kind: "ended" } : { kind: "resolved", resolution: wait.resolution };
  }
  const waitingFor = {
    nodeId,
    assetId,
    eventTypes: node.eventTypes,
    filter: node.filter ?? null,
    until: wait.deadline === null ? null : new Date(wait.deadline).toISOString(),
  };
  await pauseRun(db, { ...key, seq: step.seq }, waitingFor, now());
  return { kind: "paused" };
}
