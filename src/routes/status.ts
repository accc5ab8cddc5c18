/** `/api/status`: the figures an on-call engineer checks first, from the same queries as the overview. */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { healthFigures } from "../db/dashboard";
import { bearerSecurity, createApiApp, errorResponses } from "./openapi-common";
import { STRANDED_AFTER_MS } from "./overview";

const DAY_MS = 24 * 60 * 60 * 1000;

export const Status = z
  .object({
    now: z.string(),
    oldestUnconsumedEvent: z
      .object({ receivedAt: z.string(), ageSeconds: z.number().int() })
      .nullable()
      .openapi({ description: "The event waiting longest for the consumer; null when every event is handled" }),
    strandedEvents: z.number().int().openapi({ description: "Events not handled 5 minutes after arriving" }),
    runsWaiting: z.number().int(),
    soonestDeadline: z.string().nullable().openapi({ description: "The earliest timeout of a waiting run" }),
    runsFailedLast24h: z.number().int(),
    lastDeliveryAt: z.string().nullable(),
    openDeadLetters: z.number().int().openapi({ description: "Dead letters not re-driven (see /api/dead-letters)" }),
  })
  .openapi("Status");

/** The status at `now`. */
export async function readStatus(db: ReturnType<typeof createDb>, now: Date): Promise<z.infer<typeof Status>> {
  const figures = await healthFigures(db, {
    strandedBefore: new Date(now.getTime() - STRANDED_AFTER_MS).toISOString(),
    failedSince: new Date(now.getTime() - DAY_MS).toISOString(),
  });
  const oldest = figures.oldestUnconsumedAt;
  return {
    now: now.toISOString(),
    oldestUnconsumedEvent: oldest
      ? { receivedAt: oldest, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(oldest)) / 1000)) }
      : null,
    strandedEvents: figures.stranded,
    runsWaiting: figures.waiting.count,
    soonestDeadline: figures.waiting.soonest,
    runsFailedLast24h: figures.failed,
    lastDeliveryAt: figures.lastDeliveryAt,
    openDeadLetters: figures.openDeadLetters,
  };
}

const route = createRoute({
  method: "get",
  path: "/status",
  summary: "Oldest unhandled event, stranded events, waiting runs, soonest deadline, failures, last delivery",
  security: bearerSecurity,
  responses: {
    200: { description: "The status", content: { "application/json": { schema: Status } } },
    ...errorResponses,
  },
});

export const statusApi = createApiApp().openapi(route, async (c) =>
  c.json(await readStatus(createDb(c.env.DB), new Date()), 200),
);
