/**
 * Who and where an event came from, beside its Event Fields: the actor and the client
 * IP. Counts over windows key on them (workflows/threshold.ts), so they travel with the
 * event in its queue message and are kept in its row (`client_ip`; the actor has its own
 * column). Optional everywhere: messages and rows from before they existed lack them.
 */
import { z } from "zod";
import type { Actor } from "./normalise";

export const EventContext = z.object({
  actorId: z.string().nullable(),
  actorAlternateId: z.string().nullable(),
  clientIp: z.string().nullable(),
});
export type EventContext = z.infer<typeof EventContext>;

/** The context of an event from its actor and client IP (a normalised event, or a stored row). */
export function eventContext(actor: Actor | null | undefined, clientIp: string | null | undefined): EventContext {
  return { actorId: actor?.id ?? null, actorAlternateId: actor?.alternateId ?? null, clientIp: clientIp ?? null };
}
