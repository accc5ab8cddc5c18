/**
 * Which events end which waits. Pure, so the rules are tested without a Durable Object.
 *
 * An event resumes a wait when it is on the wait's asset and from the run's own Okta
 * org (the WaitRoom is per (source, asset); the source is checked again here), is one
 * of the wait's event types (any of the 13 when none are given), matches its filter,
 * was published no earlier than the event the run saw last (its trigger, or the event
 * that resumed its previous wait) and no later than the wait's deadline, and is none
 * of the events the run has already taken: a run's resumptions are a set, so two
 * events in the same millisecond cannot let one of them count twice. That last rule is what lets a buffered event resume a run that started
 * waiting after the event arrived, without the run's own trigger, or an event it
 * already consumed, counting again. Okta stamps `published` in milliseconds, and
 * events of one batch can share it, so "the same millisecond" counts as after.
 */
import { isSystemEventType } from "../okta/event-types";
import { evaluate } from "../workflows/predicate";
import type { AssetEvent, WaitRequest } from "./wait-messages";

export type WaitCriteria = Pick<WaitRequest, "eventTypes" | "filter" | "after" | "source" | "seen"> & {
  deadline?: number | null;
};

export function waitAccepts(wait: WaitCriteria, event: AssetEvent): boolean {
  const { fields } = event;
  if (!isSystemEventType(fields.eventType)) return false;
  if (wait.eventTypes.length > 0 && !wait.eventTypes.includes(fields.eventType)) return false;
  if (event.uuid === wait.after.uuid || wait.seen?.includes(event.uuid)) return false;
  // `undefined`: a wait registered by an older deploy, before waits knew their source.
  if (wait.source !== undefined && (fields.source ?? null) !== wait.source) return false;
  const published = Date.parse(fields.eventDate);
  if (published < Date.parse(wait.after.eventDate)) return false;
  if (wait.deadline !== undefined && wait.deadline !== null && published > wait.deadline) return false;
  return wait.filter === null || evaluate(wait.filter, fields);
}

/** Among buffered events, the one a new wait takes: the earliest published that it accepts. */
export function firstAccepted(wait: WaitCriteria, buffered: readonly AssetEvent[]): AssetEvent | null {
  const accepted = buffered.filter((event) => waitAccepts(wait, event));
  accepted.sort(
    (a, b) => Date.parse(a.fields.eventDate) - Date.parse(b.fields.eventDate) || a.uuid.localeCompare(b.uuid),
  );
  return accepted[0] ?? null;
}
