/**
 * The cron's repairs of runs: every state one store announces to another by a message
 * is checked here without that message (see docs/architecture.md).
 * - running, not leased, idle past `repairAfter`: its message was lost; hand it back.
 * - waiting past `repairAfter`: ask its WaitRoom; a wait it lost is registered again
 *   from D1's copy, a resolved one is re-sent. A wait in a room named by its asset
 *   alone (before rooms were per (source, asset)) is moved: cancelled there and
 *   registered in its scoped room.
 * - ended but still naming a WaitRoom: cancel the wait there.
 */

import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { failUnheldRun, STALLED_AFTER_MS } from "../db/run-writes";
import { findRunsToRepair, scheduleRepairs } from "../db/runs";
import { type RunRow, runs as runsTable } from "../db/schema";
import { WaitingFor } from "../db/wait-state";
import { isScopedRoomName, waitRoomName, waitRoomNamed } from "../durable/wait-rooms";
import { enqueueEach } from "../queue/enqueue";
import { logRunFailed } from "./log";
import { cancelWaits } from "./terminate";

const BATCH_LIMIT = 500;
/** A wait its WaitRoom confirmed is checked again at its deadline (plus this), or after 6 hours. */
const AFTER_DEADLINE_MS = 5 * 60_000;
const RECHECK_MS = 6 * 60 * 60_000;

export interface RunRepairs {
  handedBack: number;
  waitsChecked: number;
  waitsCancelled: number;
}

export async function repairRuns(db: Db, env: Env, now: Date): Promise<RunRepairs> {
  const rows = await findRunsToRepair(db, now, BATCH_LIMIT);
  const byStatus = Map.groupBy(rows, (run) =>
    run.status === "running" || run.status === "waiting" ? run.status : "ended",
  );
  const [handedBack, waitsChecked, waitsCancelled] = await Promise.all([
    handBack(db, env, byStatus.get("running") ?? [], now),
    checkWaits(db, env, byStatus.get("waiting") ?? [], now),
    cancelWaits(db, env, byStatus.get("ended") ?? []),
  ]);
  const repairs = { handedBack, waitsChecked, waitsCancelled };
  if (rows.length > 0) console.log(JSON.stringify({ msg: "repaired runs", ...repairs }));
  return repairs;
}

/** Executing a run again is safe (leases, recorded steps, notBefore); the run is looked at again if this message is lost too. */
async function handBack(db: Db, env: Env, runs: readonly RunRow[], now: Date): Promise<number> {
  const failed = new Set(
    await enqueueEach(
      env.EVENTS,
      runs.map((run) => ({ key: run.id, body: { kind: "run" as const, runId: run.id } })),
    ),
  );
  const sent = runs.map((run) => run.id).filter((id) => !failed.has(id));
  await scheduleRepairs(
    db,
    sent.map((id) => ({ id, at: new Date(now.getTime() + STALLED_AFTER_MS) })),
  );
  return sent.length;
}

/** Still waiting: look again after its deadline (or in 6 hours). Resolved: the WaitRoom re-sends; look again in case that is lost too. */
function nextWaitCheck(state: string | undefined, waitingFor: WaitingFor, now: Date): Date {
  const deadline = waitingFor.until ? Date.parse(waitingFor.until) + AFTER_DEADLINE_MS : Number.POSITIVE_INFINITY;
  const next = state === "waiting" ? Math.min(deadline, now.getTime() + RECHECK_MS) : now.getTime() + STALLED_AFTER_MS;
  return new Date(Math.max(next, now.getTime() + 60_000));
}

async function checkWaits(db: Db, env: Env, runs: readonly RunRow[], now: Date): Promise<number> {
  const readable = runs.flatMap((run) => {
    const parsed = WaitingFor.safeParse(run.waitingFor);
    return parsed.success ? [{ run, waitingFor: parsed.data }] : [];
  });
  const unreadable = runs.filter((run) => !readable.some((r) => r.run.id === run.id));
  const [first, ...rest] = unreadable.map((run) =>
    failUnheldRun(db, run.id, now, "its wait could not be read back to repair it"),
  );
  if (first) await db.batch([first, ...rest]);
  for (const run of unreadable) logRunFailed(run, null, "stored wait unreadable");
  const unmoved = await moveLegacyWaits(db, env, readable);
  let checked = 0;
  await Promise.all(
    [
      ...Map.groupBy(
        readable.filter(({ run }) => !unmoved.has(run.id)),
        (r) => roomOf(r.run, r.waitingFor),
      ),
    ].map(async ([room, waits]) => {
      try {
        const results = await waitRoomNamed(env, room).reconcile(
          waits.map(({ run, waitingFor }) => ({
            runId: run.id,
            nodeId: waitingFor.nodeId,
            workflowId: run.workflowId,
            assetId: waitingFor.assetId,
            room,
            source: sourceOf(run, waitingFor),
            seen: waitingFor.seen ?? [run.triggerEventUuid],
            eventTypes: waitingFor.eventTypes,
            filter: waitingFor.filter,
            // Rows of older deploys: the trigger is the event the run saw last, which is right for a first wait.
            after: waitingFor.after ?? {
              uuid: run.triggerEventUuid,
              eventDate: run.trigger?.eventDate ?? run.startedAt,
            },
            deadline: waitingFor.until === null ? null : Date.parse(waitingFor.until),
          })),
        );
        checked += results.length;
        const states = new Map(results.map((r) => [r.runId, r.state]));
        await scheduleRepairs(
          db,
          waits.map(({ run, waitingFor }) => ({ id: run.id, at: nextWaitCheck(states.get(run.id), waitingFor, now) })),
        );
      } catch (err) {
        console.error(JSON.stringify({ msg: "WaitRoom reconcile failed; the cron retries", room, error: String(err) }));
      }
    }),
  );
  return checked;
}

/** The run's source: as its wait recorded it, or (rows of older deploys) its trigger's. */
function sourceOf(run: RunRow, waitingFor: WaitingFor): string | null {
  return waitingFor.source !== undefined ? waitingFor.source : (run.trigger?.source ?? null);
}

/** The scoped room a wait belongs in. */
function roomOf(run: RunRow, waitingFor: WaitingFor): string {
  return waitRoomName(sourceOf(run, waitingFor), waitingFor.assetId);
}

/**
 * Waits registered before rooms were scoped sit in a room named by the asset alone:
 * cancel them there (its tombstone keeps a late wait() out) and point D1 at the scoped
 * room, where reconcile registers them again from D1's copy. A failure leaves the old
 * name in D1, and the next pass tries again; returns the runs not moved, which are
 * not registered anywhere else meanwhile.
 */
async function moveLegacyWaits(
  db: Db,
  env: Env,
  waits: ReadonlyArray<{ run: RunRow; waitingFor: WaitingFor }>,
): Promise<Set<string>> {
  const unmoved = new Set<string>();
  const legacy = waits.filter(({ run }) => run.waitRoom !== null && !isScopedRoomName(run.waitRoom));
  await Promise.all(
    [...Map.groupBy(legacy, ({ run }) => run.waitRoom ?? "")].map(async ([oldRoom, moving]) => {
      try {
        await waitRoomNamed(env, oldRoom).cancel(moving.map(({ run }) => run.id));
        const [first, ...rest] = moving.map(({ run, waitingFor }) =>
          db
            .update(runsTable)
            .set({ waitRoom: roomOf(run, waitingFor) })
            .where(eq(runsTable.id, run.id)),
        );
        if (first) await db.batch([first, ...rest]);
      } catch (err) {
        for (const { run } of moving) unmoved.add(run.id);
        console.error(JSON.stringify({ msg: "legacy wait not moved; the cron retries", oldRoom, error: String(err) }));
      }
    }),
  );
  return unmoved;
}
