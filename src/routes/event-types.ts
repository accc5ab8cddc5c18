/** `/api/event-types`: the Okta System Category catalogue and the Event Fields schema. */
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_FIELDS, SYSTEM_CATEGORY_EVENT_TYPES } from "../okta/event-types";
import { bearerSecurity, createApiApp, errorResponses } from "./openapi-common";

const Catalogue = z
  .object({
    category: z.literal("Okta System Category"),
    eventTypes: z.array(z.object({ eventType: z.string(), displayName: z.string(), description: z.string() })),
    eventFields: z.array(z.object({ key: z.string(), name: z.string(), description: z.string(), type: z.string() })),
  })
  .openapi("EventCatalogue");

const route = createRoute({
  method: "get",
  path: "/event-types",
  summary: "The 13 System Category event types and the Event Fields",
  security: bearerSecurity,
  responses: {
    200: { description: "The catalogue", content: { "application/json": { schema: Catalogue } } },
    ...errorResponses,
  },
});

export const eventTypesApi = createApiApp().openapi(route, (c) =>
  c.json(
    {
      category: "Okta System Category" as const,
      eventTypes: SYSTEM_CATEGORY_EVENT_TYPES.map((t) => ({ ...t })),
      eventFields: EVENT_FIELDS.map((f) => ({ ...f })),
    },
    200,
  ),
);
