/**
 * The dry run of a threshold trigger: would this stored event complete its window? Pure:
 * the caller reads the stored events of the same org published up to two windows before
 * it (what an EventCounter keeps, count-window.ts) and this replays them, in published
 * order, through the same counting the EventCounter does. It is the counter as if it had
 * started then: events a real run already used up before that are not known here.
 */
import type { EventContext } from "../okta/event-context";
import type { EventFields } from "../okta/event-fields";
import { byTime, type CountedEvent, countEvent } from "./count-window";
import type { Trigger } from "./definition";
import { countValue, type Threshold } from "./threshold";
import { matchesTrigger } from "./trigger";

export interface StoredForCount {
  uuid: string;
  fields: EventFields;
  context: EventContext;
}

export type DryCount =
  | { key: null }
  | {
      key: string;
      /** Events of this key that matched the trigger, in the two windows up to the event (it included). */
      matched: number;
      /** The run this event would start: the events counted; null when it completes no window. */
      fires: { n: number; uuids: string[] } | null;
    };

export function dryCount(
  trigger: Trigger & { threshold: Threshold },
  event: StoredForCount,
  stored: readonly StoredForCount[],
): DryCount {
  const { threshold } = trigger;
  const key = countValue(threshold.by, event.fields, event.context);
  if (key === null || key === "") return { key: null };
  const rule = { count: threshold.count, withinMs: threshold.withinSeconds * 1000, distinct: !!threshold.distinct };
  const asCounted = (e: StoredForCount): CountedEvent => ({
    uuid: e.uuid,
    at: Date.parse(e.fields.eventDate),
    value: threshold.distinct ? countValue(threshold.distinct, e.fields, e.context) : null,
  });
  const same = [...stored.filter((e) => e.uuid !== event.uuid), event]
    .filter((e) => (e.fields.source ?? null) === (event.fields.source ?? null))
    .filter((e) => matchesTrigger(trigger, e.fields) && countValue(threshold.by, e.fields, e.context) === key)
    .map(asCounted)
    .sort(byTime);
  const open: CountedEvent[] = [];
  let fires: { n: number; uuids: string[] } | null = null;
  for (const e of same) {
    const reached = countEvent(open, e, rule);
    if (e.uuid === event.uuid) {
      fires = reached ? { n: reached.counted.length, uuids: reached.counted.map((c) => c.uuid) } : null;
      break;
    }
  }
  return { key, matched: same.filter((e) => e.at <= Date.parse(event.fields.eventDate)).length, fires };
}
