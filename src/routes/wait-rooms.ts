/**
 * `/api/wait-rooms/{assetId}?source=`: ask an asset's WaitRoom which runs are paused
 * on it. Rooms are per (source, asset): asset IDs are unique only within one Okta org.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { waitRoomFor } from "../durable/wait-rooms";
import { bearerSecurity, createApiApp, errorResponses } from "./openapi-common";

const PausedRun = z
  .object({
    runId: z.string(),
    nodeId: z.string(),
    workflowId: z.string(),
    eventTypes: z.array(z.string()),
    filter: z.unknown().nullable(),
    deadline: z.string().nullable(),
    since: z.string().openapi({ description: "Only events published after this count" }),
  })
  .openapi("PausedRun");

const route = createRoute({
  method: "get",
  path: "/wait-rooms/{assetId}",
  summary: "The runs paused on an asset, soonest deadline first",
  security: bearerSecurity,
  request: {
    params: z.object({ assetId: z.string().min(1) }),
    query: z
      .object({
        source: z.string().min(1).optional().openapi({
          description: "The named Okta org (OKTA_SOURCES) the asset belongs to; omitted: the single-org /hooks/okta",
        }),
      })
      .strict(),
  },
  responses: {
    200: {
      description: "The paused runs",
      content: {
        "application/json": {
          schema: z.object({ assetId: z.string(), source: z.string().nullable(), runs: z.array(PausedRun) }),
        },
      },
    },
    ...errorResponses,
  },
});

export const waitRoomsApi = createApiApp().openapi(route, async (c) => {
  const { assetId } = c.req.valid("param");
  const source = c.req.valid("query").source ?? null;
  const runs = await waitRoomFor(c.env, source, assetId).paused();
  return c.json({ assetId, source, runs }, 200);
});
