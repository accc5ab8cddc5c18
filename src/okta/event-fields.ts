/**
 * The Event Fields as a schema: what a normalised event looks like wherever it
 * crosses a boundary (queue messages, API responses, Durable Object calls).
 */
import { z } from "@hono/zod-openapi";

export const EventFields = z
  .object({
    id: z.string().nullable().openapi({ description: "ID of the Okta system (the asset)" }),
    type: z.string().nullable().openapi({ description: "Type of the Okta system", example: "Token" }),
    alternateId: z.string().nullable(),
    displayName: z.string().nullable(),
    eventType: z.string().openapi({ example: "system.api_token.create" }),
    eventResult: z.string().nullable().openapi({ example: "SUCCESS" }),
    eventDate: z.string().openapi({ description: "When the event occurred (Okta `published`)" }),
    eventTimestamp: z.string().openapi({ description: "When the delivery reached the Worker" }),
    // Optional: queue messages, WaitRoom events and run triggers written before sources existed lack it.
    source: z.string().nullable().optional().openapi({
      description:
        "The named Okta org (OKTA_SOURCES) whose hook path brought the event; null for the single-org /hooks/okta",
      example: "acme",
    }),
  })
  .openapi("EventFields");
export type EventFields = z.infer<typeof EventFields>;
