/** Does an event start a workflow? Pure: the trigger's event types and filter against the Event Fields. */
import type { EventFields } from "../okta/event-fields";
import { isSystemEventType } from "../okta/event-types";
import type { Trigger } from "./definition";
import { evaluate } from "./predicate";

export function matchesTrigger(trigger: Trigger, fields: EventFields): boolean {
  if (!isSystemEventType(fields.eventType)) return false;
  const typeMatches = trigger.eventTypes.length === 0 || trigger.eventTypes.some((type) => type === fields.eventType);
  return typeMatches && (trigger.filter === undefined || evaluate(trigger.filter, fields));
}
