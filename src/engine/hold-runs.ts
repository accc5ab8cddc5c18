/**
 * Taking runs to execute: one lease statement and one steps query for all of them,
 * with the WaitRoom decisions each should apply first. Shared by the event path (the
 * waits an event just decided) and the run/resume message path.
 */
import { leaseRuns, listStepsOf } from "../db/runs";
import type { HeldRun, WaitDecision } from "./executor";
import { LEASE_MS } from "./lease";
import type { EngineDeps } from "./types";

/** Leases what it can of `runIds` and returns those runs with their steps; runs held elsewhere or ended are left out. */
export async function holdRuns(
  deps: EngineDeps,
  runIds: readonly string[],
  decisionsOf: (run: HeldRun["run"]) => WaitDecision[] = () => [],
): Promise<HeldRun[]> {
  const now = deps.now();
  const leased = await leaseRuns(deps.db, [...new Set(runIds)], now, new Date(now.getTime() + LEASE_MS));
  const steps = Map.groupBy(
    await listStepsOf(
      deps.db,
      leased.map((run) => run.id),
    ),
    (step) => step.runId,
  );
  return leased.map((run) => ({ run, steps: steps.get(run.id) ?? [], decisions: decisionsOf(run) }));
}
