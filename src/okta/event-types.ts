/**
 * The Okta System Category: the 13 event types workflows can start on or wait for,
 * and the Event Fields every stored event carries. The API and dashboard serve this
 * catalogue as is; trigger filters and conditions are checked against it.
 */

import { closest, distance } from "fastest-levenshtein";

export const SYSTEM_CATEGORY_EVENT_TYPES = [
  {
    eventType: "system.sms.send_phone_verification_message",
    displayName: "Verification SMS sent",
    description: "A phone verification SMS message was sent.",
  },
  {
    eventType: "system.voice.send_phone_verification_call",
    displayName: "Verification call sent",
    description: "A phone verification call was sent.",
  },
  {
    eventType: "system.api_token.create",
    displayName: "API token created",
    description: "API token was created.",
  },
  {
    eventType: "system.api_token.revoke",
    displayName: "API token revoked",
    description: "API token was revoked.",
  },
  {
    eventType: "system.org.rate_limit.warning",
    displayName: "Rate limit warning",
    description: "An endpoint is nearing its rate limit.",
  },
  {
    eventType: "system.org.rate_limit.violation",
    displayName: "Rate limit violation",
    description: "An endpoint exceeded its rate limit.",
  },
  { eventType: "system.import.start", displayName: "Import started", description: "Import started." },
  {
    eventType: "system.import.complete",
    displayName: "Import complete",
    description: "Import process completed.",
  },
  {
    eventType: "system.import.roadblock",
    displayName: "Import roadblocks",
    description: "An import roadblock was triggered due to an exceeded threshold.",
  },
  {
    eventType: "security.authenticator.lifecycle.activate",
    displayName: "Authenticator activated",
    description: "An admin activated an authenticator for the org.",
  },
  {
    eventType: "security.authenticator.lifecycle.deactivate",
    displayName: "Authenticator deactivated",
    description: "An admin deactivated an authenticator for the org.",
  },
  { eventType: "access.request.create", displayName: "Submitted", description: "An access request was created." },
  { eventType: "access.request.resolve", displayName: "Resolved", description: "An access request was resolved." },
] as const;

export type SystemEventType = (typeof SYSTEM_CATEGORY_EVENT_TYPES)[number]["eventType"];

export const SYSTEM_EVENT_TYPES: readonly SystemEventType[] = SYSTEM_CATEGORY_EVENT_TYPES.map((t) => t.eventType);

const systemEventTypeSet: ReadonlySet<string> = new Set(SYSTEM_EVENT_TYPES);

/** True when `eventType` is one of the 13 System Category types that can start or resume a run. */
export function isSystemEventType(eventType: string): eventType is SystemEventType {
  return systemEventTypeSet.has(eventType);
}

/**
 * The known event type nearest to a misspelt one (`system.import.completed` ->
 * `system.import.complete`), or null when none is close: at most a third of the name's
 * characters differ (edit distance), so a name from another category is not "corrected".
 */
export function nearestEventType(eventType: string): SystemEventType | null {
  const nearest = closest(eventType, SYSTEM_EVENT_TYPES as SystemEventType[]) as SystemEventType;
  return distance(eventType, nearest) <= Math.floor(eventType.length / 3) ? nearest : null;
}

/** The Event Fields: the normalised view of an event that filters, conditions and templates read. */
export const EVENT_FIELDS = [
  { key: "id", name: "ID", description: "ID of the Okta system (the asset)", type: "string" },
  { key: "type", name: "Type", description: "Type of the Okta system", type: "string" },
  { key: "alternateId", name: "Alternate ID", description: "Alternate ID of the Okta system", type: "string" },
  { key: "displayName", name: "Display Name", description: "Display name of the Okta system", type: "string" },
  { key: "eventType", name: "Event Type", description: "Type of event that occurred", type: "string" },
  { key: "eventResult", name: "Event Result", description: "Result of the event (upper case)", type: "string" },
  { key: "eventDate", name: "Event date", description: "Date the event occurred (ISO 8601)", type: "date-time" },
  {
    key: "eventTimestamp",
    name: "Event timestamp",
    description: "When the notification was delivered to us (ISO 8601)",
    type: "date-time",
  },
  {
    key: "source",
    name: "Source",
    description: "The named Okta org whose hook path brought the event (/hooks/okta/:source); empty for /hooks/okta",
    type: "string",
  },
] as const;

export type EventFieldKey = (typeof EVENT_FIELDS)[number]["key"];

export const EVENT_FIELD_KEYS: readonly EventFieldKey[] = EVENT_FIELDS.map((f) => f.key);
