/**
 * The shape of an Okta Event Hook delivery. Tolerant of everything real Okta sends
 * (nulls, missing objects, extra keys, mixed-case results) and strict only about
 * what makes a body not an Okta delivery at all.
 */
import { z } from "zod";

/** A System Log actor or target: every field may be null or absent in real payloads. */
export const LogObject = z.looseObject({
  id: z.string().nullish(),
  type: z.string().nullish(),
  alternateId: z.string().nullish(),
  displayName: z.string().nullish(),
});
export type LogObject = z.infer<typeof LogObject>;

const isoLike = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a date-time");

/** One System Log event (`data.events[]`). Only what we read is declared; the rest passes through. */
export const LogEvent = z.looseObject({
  uuid: z.string().min(1).max(200),
  published: isoLike,
  eventType: z.string().min(1).max(200),
  displayMessage: z.string().nullish(),
  actor: LogObject.nullish(),
  target: z.array(LogObject).nullish(),
  outcome: z.looseObject({ result: z.string().nullish(), reason: z.string().nullish() }).nullish(),
});
export type LogEvent = z.infer<typeof LogEvent>;

/** The delivery envelope Okta POSTs to the hook. */
export const OktaEnvelope = z.looseObject({
  eventType: z.literal("com.okta.event_hook"),
  eventId: z.string().min(1).max(200),
  eventTime: isoLike.nullish(),
  source: z.string().nullish(),
  data: z.looseObject({ events: z.array(LogEvent) }),
});
export type OktaEnvelope = z.infer<typeof OktaEnvelope>;

/**
 * True for a delivery built from Okta's System Log rather than sent by an Event Hook:
 * `okta:backfill` names `<org>/api/v1/logs` as its source (Okta's own deliveries name
 * `<org>/api/v1/eventHooks/<id>`). Such history is stored store-only wherever it arrives.
 */
export function isSystemLogDelivery(envelope: Pick<OktaEnvelope, "source">): boolean {
  return /\/api\/v1\/logs\/?$/.test(envelope.source ?? "");
}
