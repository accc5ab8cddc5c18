/**
 * Queue message bodies. Every body is validated on the way out of the queue: an
 * older deploy may have enqueued an older shape, and a malformed one goes to the
 * dead-letter queue with the reason instead of being retried forever.
 */
import { z } from "zod";
import { EventFields } from "../okta/event-fields";

/** A stored event, ready for the workflow engine. */
export const EventMessage = z.object({
  kind: z.literal("event"),
  uuid: z.string().min(1),
  inCategory: z.boolean(),
  fields: EventFields,
});
export type EventMessage = z.infer<typeof EventMessage>;

export const QueueMessage = z.discriminatedUnion("kind", [EventMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** What the consumer puts on the dead-letter queue: the original body and why it was rejected. */
export interface DeadLetter {
  reason: string;
  body: unknown;
  messageId: string;
  attempts: number;
}
