/**
 * The run lease: one consumer at a time executes a run. Two deliveries of the same
 * message (or a run message racing a resume) would otherwise execute a step twice.
 */
import { acquireLease, getRun, releaseLease } from "../db/runs";
import type { RunRow } from "../db/schema";
import type { AdvanceResult, EngineDeps } from "./types";

/** How long one consumer may hold a run: longer than an action's worst case (6 attempts of 30 s plus backoff). */
export const LEASE_MS = 5 * 60_000;
/** A run held by another consumer is usually free again within seconds (it is pausing or finishing). */
const LEASE_BUSY_RETRY_SECONDS = 5;

/**
 * Runs `work` on the run while holding its lease. `work` gets the run as it stood when
 * the lease was taken. A run leased by another consumer is retried shortly; a run
 * that has ended is left alone.
 */
export async function withLease(
  deps: EngineDeps,
  runId: string,
  work: (run: RunRow) => Promise<AdvanceResult>,
): Promise<AdvanceResult> {
  const now = deps.now();
  const run = await acquireLease(deps.db, runId, now, new Date(now.getTime() + LEASE_MS));
  if (!run) {
    const current = await getRun(deps.db, runId);
    const active = current?.status === "running" || current?.status === "waiting";
    return active ? { kind: "retry", delaySeconds: LEASE_BUSY_RETRY_SECONDS } : { kind: "settled" };
  }
  try {
    return await work(run);
  } finally {
    await releaseLease(deps.db, runId, deps.now());
  }
}
