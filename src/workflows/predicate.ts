/**
 * Predicates over Event Fields: the language of trigger filters, event-node filters
 * and condition nodes. Data, not code: a tree of comparisons joined by and/or/not.
 */
import { z } from "@hono/zod-openapi";
import type { EventFields } from "../okta/event-fields";
import { EVENT_FIELD_KEYS, type EventFieldKey } from "../okta/event-types";

const Field = z.enum(EVENT_FIELD_KEYS as [EventFieldKey, ...EventFieldKey[]], {
  error: (issue) => `unknown Event Field ${JSON.stringify(issue.input)}; known fields: ${EVENT_FIELD_KEYS.join(", ")}`,
});

const Compare = z.strictObject({
  field: Field,
  op: z.enum(["eq", "neq", "contains", "startsWith"]),
  value: z.string(),
});
const In = z.strictObject({ field: Field, op: z.literal("in"), values: z.array(z.string()).min(1) });
const Exists = z.strictObject({ field: Field, op: z.literal("exists") });

export type Predicate =
  | z.infer<typeof Compare>
  | z.infer<typeof In>
  | z.infer<typeof Exists>
  | { and: Predicate[] }
  | { or: Predicate[] }
  | { not: Predicate };

export const Predicate: z.ZodType<Predicate> = z
  .lazy(
    () =>
      z.union([
        Compare,
        In,
        Exists,
        z.strictObject({ and: z.array(Predicate).min(1) }),
        z.strictObject({ or: z.array(Predicate).min(1) }),
        z.strictObject({ not: Predicate }),
      ]),
    // A named component lets the OpenAPI generator refer to the recursion instead of expanding it forever.
  )
  .openapi("Predicate");

/**
 * Evaluates a predicate against an event's fields. Comparisons are exact and
 * case-sensitive (eventResult is already upper case); a null field equals nothing,
 * so `neq` on a null field is true and `exists` is false.
 */
export function evaluate(predicate: Predicate, fields: EventFields): boolean {
  if ("and" in predicate) return predicate.and.every((p) => evaluate(p, fields));
  if ("or" in predicate) return predicate.or.some((p) => evaluate(p, fields));
  if ("not" in predicate) return !evaluate(predicate.not, fields);
  const actual = fields[predicate.field];
  switch (predicate.op) {
    case "exists":
      return actual != null && actual !== "";
    case "eq":
      return actual === predicate.value;
    case "neq":
      return actual !== predicate.value;
    case "contains":
      return typeof actual === "string" && actual.includes(predicate.value);
    case "startsWith":
      return typeof actual === "string" && actual.startsWith(predicate.value);
    case "in":
      return actual != null && predicate.values.includes(actual);
  }
}
