/**
 * Cancel-on: "an access request resolved cancels its SLA run". A workflow-level rule
 * naming the events that end the workflow's active runs on the trigger's asset, within
 * the same Okta org, ending them `cancelled` with the event that did it. Pure: the
 * schema and whether an event matches; which runs end is decided in D1
 * (db/cancel-runs.ts), from the event path (engine/cancel-on.ts).
 */
import { z } from "@hono/zod-openapi";
import type { EventFields } from "../okta/event-fields";
import { isSystemEventType } from "../okta/event-types";
import { DistinctEventTypes } from "./event-type-schema";
import { evaluate, Predicate } from "./predicate";

export const CancelOn = z
  .strictObject({
    /**
     * At least one type: "any event on the asset" would cancel a run on the very next
     * event of any kind, which is never what an author means.
     */
    eventTypes: DistinctEventTypes.min(1, "name at least one event type that cancels the run"),
    filter: Predicate.optional(),
    /** The run's trigger asset: the only one a run is indexed by (runs.asset_id). */
    asset: z
      .literal("trigger", { error: `a cancel-on rule watches the trigger's asset: "trigger" (the default)` })
      .default("trigger"),
  })
  .openapi("CancelOn", {
    description:
      "Events that end the workflow's running and waiting runs on the trigger's asset (same Okta org) as cancelled",
  });
export type CancelOn = z.infer<typeof CancelOn>;

/** Does this event cancel runs of a workflow with this rule? (Which runs: see db/cancel-runs.ts.) */
export function cancelOnMatches(cancelOn: CancelOn, fields: EventFields): boolean {
  if (!isSystemEventType(fields.eventType) || !fields.id) return false;
  return (
    cancelOn.eventTypes.some((type) => type === fields.eventType) &&
    (cancelOn.filter === undefined || evaluate(cancelOn.filter, fields))
  );
}
