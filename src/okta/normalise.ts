/**
 * Turns an Okta LogEvent into the Event Fields of DESIGN.md plus what we keep beside
 * them. Pure: the delivery's arrival time is passed in.
 */

import type { LogEvent, LogObject } from "./envelope";
import type { EventFields } from "./event-fields";
import { isSystemEventType } from "./event-types";

export interface Actor {
  id: string | null;
  type: string | null;
  alternateId: string | null;
  displayName: string | null;
}

export interface NormalisedEvent {
  uuid: string;
  deliveryId: string;
  fields: EventFields;
  inCategory: boolean;
  actor: Actor | null;
  outcomeReason: string | null;
  displayMessage: string | null;
  /** `client.ipAddress`, when it is a string (event-context.ts). */
  clientIp: string | null;
  raw: LogEvent;
}

/**
 * Target types that name the event's asset, most preferred first, by event family.
 * Okta documents that targets must be found by type, never by array position.
 */
const PRIMARY_TARGET_TYPES: ReadonlyArray<[prefix: string, types: readonly string[]]> = [
  ["system.api_token.", ["Token"]],
  ["system.import.", ["AppInstance"]],
  ["system.org.rate_limit.", ["URL Pattern", "Bucket Uuid"]],
  ["system.sms.", ["MobilePhone", "User"]],
  ["system.voice.", ["MobilePhone", "User"]],
  ["security.authenticator.lifecycle.", ["Authenticator"]],
];

/** The object an event is about: the preferred target type, else the first target, else the actor. */
export function primaryObject(event: Pick<LogEvent, "eventType" | "target" | "actor">): LogObject | null {
  const targets = event.target ?? [];
  const preferred = PRIMARY_TARGET_TYPES.find(([prefix]) => event.eventType.startsWith(prefix))?.[1] ?? [];
  for (const type of preferred) {
    const match = targets.find((target) => target.type === type);
    if (match) return match;
  }
  return targets[0] ?? event.actor ?? null;
}

/** `client.ipAddress` read leniently: `client` is not in the envelope's schema, so an odd one never rejects a delivery. */
function clientIpOf(event: LogEvent): string | null {
  const client = (event as { client?: unknown }).client;
  const ip = typeof client === "object" && client !== null ? (client as { ipAddress?: unknown }).ipAddress : null;
  return typeof ip === "string" && ip.length > 0 ? ip.slice(0, 255) : null;
}

function toIso(value: string): string {
  return new Date(value).toISOString();
}

/**
 * Normalises one event of a delivery that reached the Worker at `receivedAt`
 * through the hook of `source` (a named org of OKTA_SOURCES, null for `/hooks/okta`).
 */
export function normaliseEvent(
  event: LogEvent,
  deliveryId: string,
  receivedAt: Date,
  source: string | null = null,
): NormalisedEvent {
  const primary = primaryObject(event);
  const result = event.outcome?.result;
  return {
    uuid: event.uuid,
    deliveryId,
    fields: {
      id: primary?.id ?? null,
      type: primary?.type ?? null,
      alternateId: primary?.alternateId ?? null,
      displayName: primary?.displayName ?? primary?.alternateId ?? primary?.id ?? null,
      eventType: event.eventType,
      eventResult: result ? result.toUpperCase() : null,
      eventDate: toIso(event.published),
      eventTimestamp: receivedAt.toISOString(),
      source,
    },
    inCategory: isSystemEventType(event.eventType),
    actor: event.actor
      ? {
          id: event.actor.id ?? null,
          type: event.actor.type ?? null,
          alternateId: event.actor.alternateId ?? null,
          displayName: event.actor.displayName ?? null,
        }
      : null,
    outcomeReason: event.outcome?.reason ?? null,
    displayMessage: event.displayMessage ?? null,
    clientIp: clientIpOf(event),
    raw: event,
  };
}
