/**
 * `/api/backfill/deliveries`: where `npm run okta:backfill` stores the System Log pages
 * it reads. Behind the admin token, not the hook secret, and store-only by construction:
 * the events are kept (one D1 batch, deduped by uuid, shown on the dashboard) but never
 * queued, so no run starts and no wait resumes. Runs for them start only through
 * `/api/replays`, which says first what it would start.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { storeDeliveryOnly } from "../ingest";
import { errorText, logError, logInfo } from "../log";
import { OktaEnvelope } from "../okta/envelope";
import { hookAuth } from "../okta/sources";
import { bearerSecurity, createApiApp, errorResponses } from "./openapi-common";

/** A page of the System Log is at most 1000 events; the tool sends them 100 a delivery. */
const MAX_EVENTS = 1000;

const StoredPage = z
  .object({
    received: z.number().int(),
    stored: z.number().int().openapi({ description: "Events new to us; the rest were stored before" }),
    runsStarted: z.literal(0).openapi({ description: "Always 0: a backfilled event starts runs only by a replay" }),
  })
  .openapi("BackfillStored");

const storePage = createRoute({
  method: "post",
  path: "/backfill/deliveries",
  summary: "Store past events from the System Log, starting no run (store-only)",
  security: bearerSecurity,
  request: {
    query: z.object({
      source: z.string().optional().openapi({ description: "The named Okta org (OKTA_SOURCES) they came from" }),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: OktaEnvelope.refine((envelope) => envelope.data.events.length <= MAX_EVENTS, {
            message: `at most ${MAX_EVENTS} events a delivery`,
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "Stored; nothing started", content: { "application/json": { schema: StoredPage } } },
    ...errorResponses,
  },
});

export const backfillApi = createApiApp().openapi(storePage, async (c) => {
  const envelope = c.req.valid("json");
  const source = c.req.valid("query").source ?? null;
  if (source !== null && hookAuth(c.env, source).kind !== "ok") {
    throw new AppError(400, "bad_request", "source is not a declared Okta source (OKTA_SOURCES)");
  }
  const receivedAt = new Date();
  let result: Awaited<ReturnType<typeof storeDeliveryOnly>>;
  try {
    result = await storeDeliveryOnly(c.env.DB, envelope, receivedAt, source);
  } catch (err) {
    logError("could not store backfilled events", { deliveryId: envelope.eventId, error: errorText(err) });
    throw new AppError(503, "unavailable", "the events could not be stored; send them again");
  }
  logInfo("backfill stored", { deliveryId: envelope.eventId, events: result.received, stored: result.stored });
  return c.json({ ...result, runsStarted: 0 as const }, 200);
});
