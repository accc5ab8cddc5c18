/** System Log events for the stand-in to start with: the 13 System Category types and a few others, spread over a time range. */
import { SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { oktaEvent } from "../local-okta/builders";

/** Types outside the category, as a real System Log has them: a backfill's filter must leave them out. */
const OTHER_TYPES = ["user.session.start", "user.lifecycle.create", "policy.evaluate_sign_on"];

/** `count` events, evenly spread over [since, until), cycling through the types (one in five outside the category). */
export function seedEvents(count: number, since: Date, until: Date): Record<string, unknown>[] {
  const category = SYSTEM_CATEGORY_EVENT_TYPES.map((type) => type.eventType);
  const step = (until.getTime() - since.getTime()) / Math.max(count, 1);
  return Array.from({ length: count }, (_, i) => {
    const eventType = i % 5 === 4 ? OTHER_TYPES[i % OTHER_TYPES.length] : category[i % category.length];
    return oktaEvent({
      eventType: eventType ?? "user.session.start",
      published: new Date(since.getTime() + Math.floor(i * step)),
    });
  });
}
