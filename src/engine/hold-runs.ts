/**
 * Taking runs to execute: one lease statement and one steps query for all of them,
 * with the WaitRoom decisions each should apply first. Shared by the event path (the
 * waits an event just decided) and the run/resume message path.
 */
import { type LeaseTaker, leaseRuns, listStepsOf } from "../db/runs";
import type { HeldRun, WaitDecision } from "./executor";
import { LEASE_MS } from "./lease";
import type { EngineDeps } from "./types";

/** A fresh owner token: one per attempt to execute, so a retry of a message is a new owner (lease.ts). */
export function newLeaseOwner(): string {
  return crypto.randomUUID();
}

/**
 * Leases what it can of the runs `taker` names and returns those runs with their
 * steps; runs held by another attempt, or ended, are left out.
 */
export async function holdRuns(
  deps: EngineDeps,
  taker: LeaseTaker,
  decisionsOf: (run: HeldRun["run"]) => WaitDecision[] = () => [],
): Promise<HeldRun[]> {
  const now = deps.now();
  const leased = await leaseRuns(deps.db, taker, now, new Date(now.getTime() + LEASE_MS));
  const steps = Map.groupBy(
    await listStepsOf(
      deps.db,
      leased.map((run) => run.id),
    ),
    (step) => step.runId,
  );
  return leased.map((run) => ({ run, steps: steps.get(run.id) ?? [], decisions: decisionsOf(run) }));
}
