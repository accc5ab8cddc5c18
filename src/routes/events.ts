/** `/api/events`: the stored events, newest first, and one event with its raw Okta payload. */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { eventSummary } from "../db/event-rows";
import { getEvent, listEvents } from "../db/events";
import { AppError } from "../errors";
import { EventFields } from "../okta/event-fields";
import { SOURCE_NAME } from "../okta/sources";
import { decodeCursor, pageOf } from "./cursor";
import { bearerSecurity, createApiApp, errorResponses, notFoundResponse } from "./openapi-common";

const Actor = z.object({
  id: z.string().nullable(),
  type: z.string().nullable(),
  alternateId: z.string().nullable(),
  displayName: z.string().nullable(),
});

const StoredEvent = EventFields.extend({
  uuid: z.string(),
  inCategory: z.boolean().openapi({ description: "One of the 13 System Category event types" }),
  actor: Actor.nullable(),
  outcomeReason: z.string().nullable(),
  displayMessage: z.string().nullable(),
  deliveryId: z.string().openapi({ description: "The Okta delivery (envelope eventId) that brought it" }),
  enqueuedAt: z.string().nullable(),
  consumedAt: z.string().nullable(),
}).openapi("Event");

const RawEvent = z.record(z.string(), z.unknown()).openapi({ description: "The event exactly as Okta sent it" });
const EventDetail = StoredEvent.extend({ raw: RawEvent }).openapi("EventDetail");

const isoDate = z.iso.datetime({ offset: true });

const ListQuery = z.object({
  eventType: z.string().optional(),
  id: z.string().optional().openapi({ description: "Asset ID (Event Field `id`)" }),
  eventResult: z.string().optional().openapi({ description: "Event Result, upper case (e.g. SUCCESS)" }),
  source: z
    .string()
    .regex(SOURCE_NAME, "a source name: 1-32 of a-z, 0-9 and -")
    .optional()
    .openapi({ description: "Named Okta org (OKTA_SOURCES) the events came through" }),
  since: isoDate.optional().openapi({ description: "Event date at or after (ISO 8601)" }),
  until: isoDate.optional().openapi({ description: "Event date at or before (ISO 8601)" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});

const listRoute = createRoute({
  method: "get",
  path: "/events",
  summary: "List stored events, newest first",
  security: bearerSecurity,
  request: { query: ListQuery },
  responses: {
    200: {
      description: "A page of events",
      content: {
        "application/json": { schema: z.object({ events: z.array(StoredEvent), nextCursor: z.string().nullable() }) },
      },
    },
    ...errorResponses,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/events/{uuid}",
  summary: "One event: Event Fields plus the raw Okta event",
  security: bearerSecurity,
  request: { params: z.object({ uuid: z.string() }) },
  responses: {
    200: { description: "The event", content: { "application/json": { schema: EventDetail } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

const CursorPosition = z.object({ eventDate: z.string(), uuid: z.string() });

export const eventsApi = createApiApp()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const after = query.cursor ? decodeCursor(query.cursor, CursorPosition) : undefined;
    const rows = await listEvents(createDb(c.env.DB), {
      eventType: query.eventType,
      assetId: query.id,
      eventResult: query.eventResult,
      source: query.source,
      since: query.since && new Date(query.since).toISOString(),
      until: query.until && new Date(query.until).toISOString(),
      after,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (row) => ({ eventDate: row.eventDate, uuid: row.uuid }));
    return c.json({ events: page.map(eventSummary), nextCursor }, 200);
  })
  .openapi(getRoute, async (c) => {
    const row = await getEvent(createDb(c.env.DB), c.req.valid("param").uuid);
    if (!row) throw new AppError(404, "not_found", "no event with that uuid");
    return c.json({ ...eventSummary(row), raw: row.raw }, 200);
  });
