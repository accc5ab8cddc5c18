/**
 * Queue message bodies. Every body is validated on the way out of the queue: an
 * older deploy may have enqueued an older shape, and a malformed one goes to the
 * dead-letter queue with the reason instead of being retried forever.
 */
import { z } from "zod";
import { EventContext } from "../okta/event-context";
import { EventFields } from "../okta/event-fields";

/** A stored event, ready for the workflow engine. */
export const EventMessage = z.object({
  kind: z.literal("event"),
  uuid: z.string().min(1),
  inCategory: z.boolean(),
  fields: EventFields,
  /** Actor and client IP, for counts keyed on them; absent in messages from older deploys. */
  context: EventContext.optional(),
});
export type EventMessage = z.infer<typeof EventMessage>;

/**
 * A stored event too large for a queue message (Queues take at most 128 KB): the
 * consumer reads its fields from D1.
 */
export const EventRefMessage = z.object({
  kind: z.literal("event-ref"),
  uuid: z.string().min(1),
});
export type EventRefMessage = z.infer<typeof EventRefMessage>;

/** A run to execute from where it stands (just started, deferred, or resumed). */
export const RunMessage = z.object({
  kind: z.literal("run"),
  runId: z.string().min(1),
});
export type RunMessage = z.infer<typeof RunMessage>;

/** A paused run's wait has ended: an event on its asset matched, or its timeout fired. */
export const ResumeMessage = z.object({
  kind: z.literal("resume"),
  runId: z.string().min(1),
  /** The WaitRoom that decided, to acknowledge to. Absent in messages from older deploys. */
  assetId: z.string().min(1).optional(),
  nodeId: z.string().min(1),
  resolution: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("event"), event: z.object({ uuid: z.string().min(1), fields: EventFields }) }),
    z.object({ kind: z.literal("timeout") }),
  ]),
});
export type ResumeMessage = z.infer<typeof ResumeMessage>;

export const QueueMessage = z.discriminatedUnion("kind", [EventMessage, EventRefMessage, RunMessage, ResumeMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** What the consumer puts on the dead-letter queue: the original body and why it was rejected. */
export interface DeadLetter {
  reason: string;
  body: unknown;
  messageId: string;
  attempts: number;
}
