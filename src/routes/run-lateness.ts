/**
 * The lateness of runs as the API and the dashboard show it: computed from the run's
 * stored trigger fields (the event's published time) and start, against the limit of
 * the workflow version it runs (one cached definition read per version).
 */
import type { Db } from "../db/client";
import type { RunRow } from "../db/schema";
import { loadDefinitions } from "../engine/definitions";
import { type Lateness, lateness } from "../workflows/lateness";

type LateInput = Pick<RunRow, "id" | "workflowId" | "workflowVersion" | "trigger" | "startedAt">;

/** Each run's lateness by run id; null for a run stored without its trigger's fields (an older deploy). */
export async function latenessOf(db: Db, runs: readonly LateInput[]): Promise<Map<string, Lateness | null>> {
  const versions = [...new Map(runs.map((run) => [`${run.workflowId}@${run.workflowVersion}`, run])).values()];
  const definitions = await loadDefinitions(
    db,
    versions.map((run) => ({ workflowId: run.workflowId, version: run.workflowVersion })),
  );
  const limitOf = new Map(definitions.map((d) => [`${d.workflowId}@${d.version}`, d.definition.lateAfterSeconds]));
  return new Map(
    runs.map((run) => [
      run.id,
      run.trigger
        ? lateness(run.trigger.eventDate, run.startedAt, limitOf.get(`${run.workflowId}@${run.workflowVersion}`))
        : null,
    ]),
  );
}
