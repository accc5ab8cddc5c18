/** `/api/overview`: the dashboard's overview as data: events of the last 24 hours by type, runs by status, waits, failures, deliveries. */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { overview } from "../db/dashboard";
import { RUN_STATUSES } from "../db/schema";
import { bearerSecurity, createApiApp, errorResponses } from "./openapi-common";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Unhandled this long after arriving, an event counts as stranded (the cron re-sends after 15 minutes). */
export const STRANDED_AFTER_MS = 5 * 60 * 1000;
export const FAILED_SHOWN = 8;

export const Overview = z
  .object({
    eventsByType: z.array(z.object({ eventType: z.string(), count: z.number().int() })),
    runsByStatus: z.array(z.object({ status: z.enum(RUN_STATUSES), count: z.number().int() })),
    waiting: z.object({ count: z.number().int(), soonest: z.string().nullable() }),
    failed: z.array(
      z.object({
        id: z.string(),
        workflowId: z.string(),
        status: z.enum(RUN_STATUSES),
        startedAt: z.string(),
        endedAt: z.string().nullable(),
      }),
    ),
    lastDeliveryAt: z.string().nullable(),
    stranded: z.number().int().openapi({ description: "Events stored but not handled 5 minutes after arriving" }),
  })
  .openapi("Overview");

/** The overview at `now`, as the API returns it and the dashboard renders it. */
export async function readOverview(db: ReturnType<typeof createDb>, now: Date): Promise<z.infer<typeof Overview>> {
  const data = await overview(db, {
    eventsSince: new Date(now.getTime() - DAY_MS).toISOString(),
    strandedBefore: new Date(now.getTime() - STRANDED_AFTER_MS).toISOString(),
    failedLimit: FAILED_SHOWN,
  });
  return {
    ...data,
    failed: data.failed.map(({ id, workflowId, status, startedAt, endedAt }) => ({
      id,
      workflowId,
      status,
      startedAt,
      endedAt,
    })),
  };
}

const route = createRoute({
  method: "get",
  path: "/overview",
  summary: "Events of the last 24 hours by type, runs by status, waiting runs, recent failures, last delivery",
  security: bearerSecurity,
  responses: {
    200: { description: "The overview", content: { "application/json": { schema: Overview } } },
    ...errorResponses,
  },
});

export const overviewApi = createApiApp().openapi(route, async (c) =>
  c.json(await readOverview(createDb(c.env.DB), new Date()), 200),
);
