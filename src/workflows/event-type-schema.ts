/**
 * The zod schemas of event types in a definition: one type, and a list of distinct
 * types. Shared by the trigger, event nodes and cancel-on, so every place names the
 * catalogue the same way and a misspelt type gets the same hint.
 */
import { z } from "@hono/zod-openapi";
import { nearestEventType, SYSTEM_EVENT_TYPES, type SystemEventType } from "../okta/event-types";

export const EventType = z.enum(SYSTEM_EVENT_TYPES as [SystemEventType, ...SystemEventType[]], {
  error: (issue) => {
    const nearest = typeof issue.input === "string" ? nearestEventType(issue.input) : null;
    const hint = nearest ? `; did you mean "${nearest}"?` : "; not one of the 13 Okta System Category types";
    return `unknown event type ${JSON.stringify(issue.input)}${hint}`;
  },
});

/** Event types, each at most once: a repeat is a slip, and would collide in the trigger index (one row per type). */
export const DistinctEventTypes = z.array(EventType).superRefine((types, ctx) => {
  types.forEach((type, index) => {
    if (types.indexOf(type) !== index) {
      ctx.addIssue({ code: "custom", path: [index], message: `${type} is listed more than once` });
    }
  });
});

/** A list that may be empty (meaning all 13), the default. */
export const EventTypes = DistinctEventTypes.default([]);
