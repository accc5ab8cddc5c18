/** Mapping between normalised events and their D1 rows, in both directions. Pure. */
import { eventContext } from "../okta/event-context";
import type { EventFields } from "../okta/event-fields";
import type { NormalisedEvent } from "../okta/normalise";
import type { EventMessage } from "../queue/messages";
import type { EventRow, NewEventRow } from "./schema";

export function toEventRow(event: NormalisedEvent): NewEventRow {
  const { fields } = event;
  return {
    uuid: event.uuid,
    deliveryId: event.deliveryId,
    assetId: fields.id,
    assetType: fields.type,
    assetAlternateId: fields.alternateId,
    assetDisplayName: fields.displayName,
    eventType: fields.eventType,
    eventResult: fields.eventResult,
    eventDate: fields.eventDate,
    eventTimestamp: fields.eventTimestamp,
    source: fields.source ?? null,
    inCategory: event.inCategory,
    actor: event.actor,
    clientIp: event.clientIp,
    outcomeReason: event.outcomeReason,
    displayMessage: event.displayMessage,
    raw: event.raw,
    // Optimistic: the send follows the insert; ingest clears this if the send fails.
    enqueuedAt: fields.eventTimestamp,
  };
}

/** The Event Fields of a stored row. */
export function fieldsOf(row: Omit<EventRow, "raw">): EventFields {
  return {
    id: row.assetId,
    type: row.assetType,
    alternateId: row.assetAlternateId,
    displayName: row.assetDisplayName,
    eventType: row.eventType,
    eventResult: row.eventResult,
    eventDate: row.eventDate,
    eventTimestamp: row.eventTimestamp,
    source: row.source,
  };
}

/** A stored event as the consumer takes it: the message the hook sent (or would have sent) for it. */
export function eventMessageOf(row: Omit<EventRow, "raw">): EventMessage {
  return {
    kind: "event",
    uuid: row.uuid,
    inCategory: row.inCategory,
    fields: fieldsOf(row),
    context: eventContext(row.actor, row.clientIp),
  };
}

/** The API view of a stored event: its Event Fields first, then what we keep beside them. */
export function eventSummary(row: Omit<EventRow, "raw">) {
  return {
    uuid: row.uuid,
    ...fieldsOf(row),
    inCategory: row.inCategory,
    actor: row.actor ?? null,
    outcomeReason: row.outcomeReason,
    displayMessage: row.displayMessage,
    deliveryId: row.deliveryId,
    enqueuedAt: row.enqueuedAt,
    consumedAt: row.consumedAt,
  };
}
