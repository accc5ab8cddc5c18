/**
 * From an event to runs: find the enabled workflows whose trigger lists the event's
 * type (the trigger index), keep those whose filter matches, and start one run per
 * (workflow, event), idempotently.
 */
import type { Db } from "../db/client";
import { startRuns } from "../db/runs";
import { findTriggered } from "../db/workflows";
import type { EventFields } from "../okta/event-fields";
import { matchesTrigger } from "../workflows/trigger";
import { loadDefinitions } from "./definitions";

/** Returns the ids of the runs (new or found still running) this event started. */
export async function startRunsForEvent(db: Db, event: { uuid: string; fields: EventFields }, now: Date) {
  const candidates = await loadDefinitions(db, await findTriggered(db, event.fields.eventType));
  const matching = candidates.filter((c) => matchesTrigger(c.definition.trigger, event.fields));
  return startRuns(
    db,
    matching.map((c) => ({
      id: crypto.randomUUID(),
      workflowId: c.workflowId,
      workflowVersion: c.version,
      triggerEventUuid: event.uuid,
      assetId: event.fields.id,
    })),
    now,
  );
}
