/**
 * Accepting an Okta delivery: normalise, store durably (one D1 batch), then enqueue.
 * Once D1 has the events they are safe, so a queue failure after that point is
 * logged and left to the cron instead of failing Okta's request.
 */
import { createDb, type Db } from "./db/client";
import { clearEnqueued, type DeliveryRecord, storeDelivery } from "./db/events";
import { errorText, logError } from "./log";
import type { OktaEnvelope } from "./okta/envelope";
import { eventContext } from "./okta/event-context";
import { normaliseEvent } from "./okta/normalise";
import { enqueueEvents } from "./queue/enqueue";
import type { EventMessage } from "./queue/messages";

export interface AcceptResult {
  received: number;
  stored: number;
  enqueued: boolean;
}

/**
 * Stores then enqueues a validated delivery. Throws only if D1 could not store it.
 * `hookSource` is the named org whose path it came through (null on `/hooks/okta`).
 */
export async function acceptDelivery(
  d1: D1Database,
  queue: Queue,
  envelope: OktaEnvelope,
  receivedAt: Date,
  hookSource: string | null = null,
): Promise<AcceptResult> {
  const normalised = uniqueByUuid(envelope.data.events).map((event) =>
    normaliseEvent(event, envelope.eventId, receivedAt, hookSource),
  );
  const newUuids = new Set(await storeDelivery(d1, deliveryRecord(envelope, receivedAt), normalised));
  const messages: EventMessage[] = normalised
    .filter((event) => newUuids.has(event.uuid))
    .map((event) => ({
      kind: "event",
      uuid: event.uuid,
      inCategory: event.inCategory,
      fields: event.fields,
      context: eventContext(event.actor, event.clientIp),
    }));
  try {
    await enqueueEvents(queue, messages);
    return { received: normalised.length, stored: messages.length, enqueued: true };
  } catch (err) {
    logError("enqueue failed; the cron will re-enqueue", { deliveryId: envelope.eventId, error: errorText(err) });
    await forgetEnqueued(
      createDb(d1),
      messages.map((message) => message.uuid),
    );
    return { received: normalised.length, stored: messages.length, enqueued: false };
  }
}

/**
 * Stores a delivery of past events (a backfill from the System Log) and starts nothing:
 * the events are never sent to the queue, so no run starts and no wait resumes; a
 * replay starts their runs later, on purpose. Throws only if D1 could not store it.
 */
export async function storeDeliveryOnly(
  d1: D1Database,
  envelope: OktaEnvelope,
  receivedAt: Date,
  hookSource: string | null = null,
): Promise<Omit<AcceptResult, "enqueued">> {
  const normalised = uniqueByUuid(envelope.data.events).map((event) =>
    normaliseEvent(event, envelope.eventId, receivedAt, hookSource),
  );
  const stored = await storeDelivery(d1, deliveryRecord(envelope, receivedAt), normalised, { storeOnly: true });
  return { received: normalised.length, stored: stored.length };
}

/**
 * The rows were stored as enqueued; after a failed send, say they are not, so the
 * cron re-sends them within a minute. If even that write fails, the cron still
 * finds them, later, as sent but never consumed.
 */
async function forgetEnqueued(db: Db, uuids: string[]): Promise<void> {
  try {
    await clearEnqueued(db, uuids);
  } catch (err) {
    logError("could not record the failed send; the cron will still re-send", { error: errorText(err) });
  }
}

function deliveryRecord(envelope: OktaEnvelope, receivedAt: Date): DeliveryRecord {
  return {
    eventId: envelope.eventId,
    source: envelope.source ?? null,
    eventTime: envelope.eventTime ?? null,
    receivedAt: receivedAt.toISOString(),
  };
}

/** Okta may repeat an event inside one delivery; the first copy is the one kept. */
function uniqueByUuid(events: OktaEnvelope["data"]["events"]) {
  const seen = new Set<string>();
  return events.filter((event) => !seen.has(event.uuid) && seen.add(event.uuid));
}
