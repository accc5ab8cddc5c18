/**
 * Terminating runs: D1 first (the source of truth for status, so a late resume finds
 * the run ended and does nothing), then each waiting run is removed from its WaitRoom.
 */
import type { Db } from "../db/client";
import { terminateRuns } from "../db/runs";
import { waitRoomFor } from "../durable/wait-rooms";

function waitAssetOf(waitingFor: unknown): string | null {
  if (typeof waitingFor !== "object" || waitingFor === null || !("assetId" in waitingFor)) return null;
  return typeof waitingFor.assetId === "string" ? waitingFor.assetId : null;
}

/** Returns the ids of the runs that were active and are now terminated. */
export async function terminate(
  db: Db,
  env: Env,
  where: { runId?: string; workflowId?: string },
  now: Date,
): Promise<string[]> {
  const ended = await terminateRuns(db, where, now);
  await Promise.all(
    ended.map(async (run) => {
      const assetId = waitAssetOf(run.waitingFor);
      if (assetId) await waitRoomFor(env, assetId).cancel(run.id);
    }),
  );
  return ended.map((run) => run.id);
}
