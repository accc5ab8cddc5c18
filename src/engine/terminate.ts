/**
 * Terminating runs: one D1 statement ends them (so a pause cannot slip in between
 * reading a run's wait and ending it), then each WaitRoom that may hold one of their
 * waits cancels it and keeps a tombstone. A cancel that fails is retried by the cron,
 * which finds ended runs that still name a WaitRoom.
 */
import type { Db } from "../db/client";
import { clearWaitRooms } from "../db/run-writes";
import { terminateRuns } from "../db/runs";
import { waitRoomNamed } from "../durable/wait-rooms";

/** Returns the ids of the runs that were active and are now terminated. */
export async function terminate(
  db: Db,
  env: Env,
  where: { runId?: string; workflowId?: string },
  now: Date,
): Promise<string[]> {
  const ended = await terminateRuns(db, where, now);
  await cancelWaits(db, env, ended);
  return ended.map((run) => run.id);
}

/** Cancels the waits of ended runs in their WaitRooms; D1 forgets the WaitRoom of each cancel that succeeded. */
export async function cancelWaits(
  db: Db,
  env: Env,
  ended: ReadonlyArray<{ id: string; waitRoom: string | null }>,
): Promise<number> {
  const byRoom = Map.groupBy(
    ended.filter((run) => run.waitRoom),
    (run) => run.waitRoom ?? "",
  );
  const cancelled: string[] = [];
  await Promise.all(
    [...byRoom].map(async ([room, runs]) => {
      const ids = runs.map((run) => run.id);
      try {
        await waitRoomNamed(env, room).cancel(ids);
        cancelled.push(...ids);
      } catch (err) {
        console.error(JSON.stringify({ msg: "WaitRoom cancel failed; the cron retries", room, error: String(err) }));
      }
    }),
  );
  if (cancelled.length > 0) await db.batch([clearWaitRooms(db, cancelled)]);
  return cancelled.length;
}
