/**
 * Counts over windows: a trigger with a `threshold` starts a run only when enough of its
 * matching events, per key, fall within a window ("5 denied verification SMS from one
 * IP within 10 minutes", "API tokens created by 3 distinct admins within an hour").
 * This file is the definition's part and the paths a count can key on; the counting
 * itself is count-window.ts (pure) run by an EventCounter per key (durable/counter.ts).
 */
import { z } from "@hono/zod-openapi";
import type { EventContext } from "../okta/event-context";
import type { EventFields } from "../okta/event-fields";

/**
 * What a count can be keyed by, or count distinct values of: the Event Fields that
 * identify something, and the event's actor and client IP (kept beside the Event
 * Fields, okta/event-context.ts). Dates are left out: they are what the window is.
 */
export const COUNT_PATHS = [
  "id",
  "type",
  "alternateId",
  "displayName",
  "eventType",
  "eventResult",
  "actor.id",
  "actor.alternateId",
  "client.ipAddress",
] as const;
export type CountPath = (typeof COUNT_PATHS)[number];

const CountPathSchema = z.enum(COUNT_PATHS, {
  error: (issue) => `unknown count path ${JSON.stringify(issue.input)}; one of ${COUNT_PATHS.join(", ")}`,
});

/** The largest count a threshold may ask for: the per-key state is bounded by a small multiple of it. */
export const MAX_THRESHOLD_COUNT = 1000;
/** The longest window: a day (the per-key state lives twice as long). */
export const MAX_WINDOW_SECONDS = 24 * 3600;

export const Threshold = z
  .strictObject({
    /** Fire when this many matching events (or distinct values of `distinct`) fall within the window. */
    count: z.number().int().min(2).max(MAX_THRESHOLD_COUNT),
    withinSeconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS),
    /** Events are counted per value of this path (and per Okta org); default: the asset. */
    by: CountPathSchema.default("id"),
    /** Count distinct values of this path instead of events (e.g. distinct admins). */
    distinct: CountPathSchema.optional(),
  })
  .openapi("Threshold", {
    description: "Start a run only when `count` matching events (per value of `by`) fall within `withinSeconds`",
  });
export type Threshold = z.infer<typeof Threshold>;

/** The value of a count path for an event, or null when the event has none. */
export function countValue(path: CountPath, fields: EventFields, context: EventContext | undefined): string | null {
  switch (path) {
    case "actor.id":
      return context?.actorId ?? null;
    case "actor.alternateId":
      return context?.actorAlternateId ?? null;
    case "client.ipAddress":
      return context?.clientIp ?? null;
    default:
      return fields[path] ?? null;
  }
}

/** What a run started by a threshold carries: the key, the count, and the events counted (`{{ count.* }}`). */
export const CountedEvents = z
  .object({
    key: z.string(),
    by: z.enum(COUNT_PATHS),
    distinct: z.enum(COUNT_PATHS).nullable(),
    n: z.number().int(),
    withinSeconds: z.number().int(),
    events: z.array(z.object({ uuid: z.string(), eventDate: z.string(), value: z.string().nullable() })),
  })
  .openapi("CountedEvents");
export type CountedEvents = z.infer<typeof CountedEvents>;

/** The `{{ count.* }}` keys a template may read. */
export const COUNT_KEYS = ["key", "by", "distinct", "n", "withinSeconds", "events"] as const;
