/**
 * From events to runs: find the enabled workflows whose trigger lists each event's
 * type (the trigger index, one query for the whole batch), keep those whose filter
 * matches, and start one run per (workflow, event), idempotently.
 */
import type { Db } from "../db/client";
import { startRuns } from "../db/runs";
import { findTriggered } from "../db/workflows";
import type { EventFields } from "../okta/event-fields";
import { matchesTrigger } from "../workflows/trigger";
import { loadDefinitions } from "./definitions";

/** Returns the ids of the runs (new, or found still running) these events started. */
export async function startRunsForEvents(
  db: Db,
  events: ReadonlyArray<{ uuid: string; fields: EventFields }>,
  now: Date,
): Promise<string[]> {
  const triggered = await findTriggered(db, [...new Set(events.map((event) => event.fields.eventType))]);
  const candidates = await loadDefinitions(db, triggered);
  const byType = Map.groupBy(candidates, (candidate) => candidate.eventType);
  const newRuns = events.flatMap((event) =>
    (byType.get(event.fields.eventType) ?? [])
      .filter((candidate) => matchesTrigger(candidate.definition.trigger, event.fields))
      .map((candidate) => ({
        id: crypto.randomUUID(),
        workflowId: candidate.workflowId,
        workflowVersion: candidate.version,
        triggerEventUuid: event.uuid,
        trigger: event.fields,
        assetId: event.fields.id,
      })),
  );
  return startRuns(db, newRuns, now);
}
