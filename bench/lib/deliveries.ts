/**
 * Distinct Okta deliveries for load tests, cheap enough to make by the ten thousand.
 * Each body is built once per event type with the local-Okta builders, with markers
 * where the ids go; after that, a body is those pieces joined around fresh UUIDs, so
 * every request is a new delivery (new eventId, new event uuids) and none hits dedup.
 */

import { SYSTEM_EVENT_TYPES } from "../../src/okta/event-types";
import { oktaDelivery, oktaEvent } from "../../tools/local-okta/builders";

const MARKER = /__BENCH_ID_(\d+)__/;
const marker = (index: number) => `__BENCH_ID_${index}__`;

/** JSON text split around id markers: even entries are text, odd entries are id indexes. */
type Template = { pieces: string[]; ids: number };

function template(eventTypes: readonly string[]): Template {
  const events = eventTypes.map((eventType, i) => oktaEvent({ eventType, uuid: marker(i + 1) }));
  const json = JSON.stringify(oktaDelivery(events, { eventId: marker(0) }));
  return { pieces: json.split(MARKER), ids: eventTypes.length + 1 };
}

function fill({ pieces, ids }: Template): string {
  const uuids = Array.from({ length: ids }, () => crypto.randomUUID());
  let out = "";
  for (let i = 0; i < pieces.length; i++) out += i % 2 === 0 ? pieces[i] : uuids[Number(pieces[i])];
  return out;
}

/**
 * A factory of delivery bodies with `eventsPerDelivery` events each. Event types cycle
 * through the 13 System Category types, so consecutive deliveries differ in type too.
 */
export function deliveryBodies(eventsPerDelivery: number): () => string {
  const templates = SYSTEM_EVENT_TYPES.map((_, start) =>
    template(
      Array.from(
        { length: eventsPerDelivery },
        (_, i) => SYSTEM_EVENT_TYPES[(start + i) % SYSTEM_EVENT_TYPES.length] as string,
      ),
    ),
  );
  let next = 0;
  return () => fill(templates[next++ % templates.length] as Template);
}
