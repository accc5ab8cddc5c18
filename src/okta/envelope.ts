/**
 * The shape of an Okta Event Hook delivery. Tolerant of everything real Okta sends
 * (nulls, missing objects, extra keys, mixed-case results) and strict only about
 * what makes a body not an Okta delivery at all.
 */
import { z } from "zod";

/**
 * Every schema below exists twice, from one shape: loose (unknown keys kept, for the
 * types, the API docs and /api/backfill) and stripping, for the hook's check
 * (checkDelivery). Both accept exactly the same bodies with the same issues; the
 * stripping one does not copy every undeclared key of every event, which was a third
 * of the validation's CPU on a 50-event delivery (bench/README.md, Ingress).
 */
const logObjectShape = {
  id: z.string().nullish(),
  type: z.string().nullish(),
  alternateId: z.string().nullish(),
  displayName: z.string().nullish(),
};

const isoLike = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a date-time");

function logEventShape(logObject: z.ZodType<LogObject>) {
  return {
    uuid: z.string().min(1).max(200),
    published: isoLike,
    eventType: z.string().min(1).max(200),
    displayMessage: z.string().nullish(),
    actor: logObject.nullish(),
    target: z.array(logObject).nullish(),
    // Loose in both: an outcome has no more than a few keys to copy.
    outcome: z.looseObject({ result: z.string().nullish(), reason: z.string().nullish() }).nullish(),
  };
}

/** `data` is `{ events: LogEvent[] }`, loose or stripping as the rest. */
function envelopeShape<Data extends z.ZodType>(data: Data) {
  return {
    eventType: z.literal("com.okta.event_hook"),
    eventId: z.string().min(1).max(200),
    eventTime: isoLike.nullish(),
    source: z.string().nullish(),
    data,
  };
}

/** A System Log actor or target: every field may be null or absent in real payloads. */
export const LogObject = z.looseObject(logObjectShape);
export type LogObject = z.infer<typeof LogObject>;

/** One System Log event (`data.events[]`). Only what we read is declared; the rest passes through. */
export const LogEvent = z.looseObject(logEventShape(LogObject));
export type LogEvent = z.infer<typeof LogEvent>;

/** The delivery envelope Okta POSTs to the hook. */
export const OktaEnvelope = z.looseObject(envelopeShape(z.looseObject({ events: z.array(LogEvent) })));
export type OktaEnvelope = z.infer<typeof OktaEnvelope>;

const CheckedEnvelope = z.object(
  envelopeShape(z.object({ events: z.array(z.object(logEventShape(z.object(logObjectShape)))) })),
);

/**
 * Checks that `body` is an Okta delivery, as OktaEnvelope.safeParse does, and gives back
 * `body` itself on success: the schemas transform nothing, so the body as sent is the
 * envelope with every key it carries (kept in each event's raw JSON).
 */
export function checkDelivery(body: unknown): z.ZodSafeParseResult<OktaEnvelope> {
  const checked = CheckedEnvelope.safeParse(body);
  return checked.success ? { success: true, data: body as OktaEnvelope } : checked;
}

/**
 * True for a delivery built from Okta's System Log rather than sent by an Event Hook:
 * `okta:backfill` names `<org>/api/v1/logs` as its source (Okta's own deliveries name
 * `<org>/api/v1/eventHooks/<id>`). Such history is stored store-only wherever it arrives.
 */
export function isSystemLogDelivery(envelope: Pick<OktaEnvelope, "source">): boolean {
  return /\/api\/v1\/logs\/?$/.test(envelope.source ?? "");
}
