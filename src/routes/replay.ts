/**
 * `/api/replays`: runs stored events of a time range (optionally of some types, on one
 * asset) against the current enabled workflows. A dry run (the default) lists the runs
 * that would start, what they would send, and the waiting runs that would resume; the real run records the
 * (workflow, event) pairs as replayed and sends the events to the queue again, where
 * the consumer starts each run once: a pair that has a run is never started again.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { fieldsOf } from "../db/event-rows";
import { eventsInRange, recordReplayedPairs, replayRuns, runPairsOf, waitingRunsOn } from "../db/replay";
import { RUN_STATUSES } from "../db/schema";
import { findTriggeredAndWaited } from "../db/workflows";
import { loadDefinitions } from "../engine/definitions";
import { AppError } from "../errors";
import { isSystemEventType } from "../okta/event-types";
import { enqueueEvents } from "../queue/enqueue";
import { plannedActions, planReplay } from "../replay/plan";
import { bearerSecurity, createApiApp, errorResponses, notFoundResponse } from "./openapi-common";

/** One replay takes at most this many events; a larger range is refused whole, to be split. */
export const MAX_REPLAY_EVENTS = 1000;

const isoDate = z.iso.datetime({ offset: true });

// Strict: a misspelt key ("types") must be refused, never left to a default (every type).
const ReplayRequest = z
  .strictObject({
    since: isoDate.openapi({ description: "Event date at or after (ISO 8601)" }),
    until: isoDate.openapi({ description: "Event date before (ISO 8601)" }),
    eventTypes: z
      .array(z.string().refine(isSystemEventType, "not a System Category event type"))
      .optional()
      .openapi({ description: "Only these types (default: all 13)" }),
    assetId: z.string().min(1).optional().openapi({ description: "Only events on this asset (Event Field `id`)" }),
    dryRun: z.boolean().default(true).openapi({ description: "List what would happen and change nothing (default)" }),
  })
  .refine((body) => Date.parse(body.since) < Date.parse(body.until), { message: "since must be before until" })
  .openapi("ReplayRequest");

const PlannedRun = z
  .object({
    workflowId: z.string(),
    version: z.number().int(),
    eventUuid: z.string(),
    eventType: z.string(),
    assetId: z.string().nullable(),
  })
  .openapi("ReplayPlannedRun");

const ReplayResult = z
  .object({
    replayId: z.string().nullable().openapi({ description: "Null for a dry run" }),
    dryRun: z.boolean(),
    events: z.number().int().openapi({ description: "Stored events in the range" }),
    runs: z.array(PlannedRun).openapi({ description: "Runs that start (or would start)" }),
    alreadyRan: z.number().int().openapi({ description: "(workflow, event) pairs skipped because they have a run" }),
    resumes: z
      .array(z.object({ runId: z.string(), workflowId: z.string(), eventUuid: z.string() }))
      .openapi({ description: "Waiting runs a replayed event would resume, unless their WaitRoom has seen it" }),
    enqueued: z.number().int().openapi({ description: "Events sent to the queue again" }),
    actions: z
      .array(
        z.object({
          kind: z.string().openapi({ description: "The action's type: http, slack or okta" }),
          target: z.string().openapi({ description: "Where it goes: method and URL, Slack webhook secret, Okta call" }),
          runs: z.number().int().openapi({ description: "How many of the runs would send it" }),
          afterWait: z.boolean().openapi({ description: "Sent only after an event node's wait (or its timeout)" }),
        }),
      )
      .openapi({ description: "What the runs would send, from a dry run of each on its trigger event" }),
  })
  .openapi("ReplayResult");

const ReplayRuns = z
  .object({
    replayId: z.string(),
    runs: z.array(
      z.object({
        workflowId: z.string(),
        eventUuid: z.string(),
        requestedAt: z.string(),
        runId: z.string().nullable().openapi({ description: "Null until the queue consumer has started it" }),
        status: z.enum(RUN_STATUSES).nullable(),
      }),
    ),
  })
  .openapi("ReplayRuns");

const createReplay = createRoute({
  method: "post",
  path: "/replays",
  summary: "Replay stored events against the enabled workflows (dry run by default)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: ReplayRequest } } } },
  responses: {
    200: { description: "The dry run: what would happen", content: { "application/json": { schema: ReplayResult } } },
    202: { description: "Replayed: the events are queued", content: { "application/json": { schema: ReplayResult } } },
    ...errorResponses,
  },
});

const getReplay = createRoute({
  method: "get",
  path: "/replays/{id}",
  summary: "The runs a replay started",
  security: bearerSecurity,
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: "The replayed pairs and their runs", content: { "application/json": { schema: ReplayRuns } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

export const replayApi = createApiApp()
  .openapi(createReplay, async (c) => {
    const db = createDb(c.env.DB);
    const body = c.req.valid("json");
    const range = {
      since: new Date(body.since).toISOString(),
      until: new Date(body.until).toISOString(),
      eventTypes: body.eventTypes,
      assetId: body.assetId,
    };
    const rows = await eventsInRange(db, range, MAX_REPLAY_EVENTS);
    if (rows.length > MAX_REPLAY_EVENTS) {
      throw new AppError(
        400,
        "bad_request",
        `the range holds more than ${MAX_REPLAY_EVENTS} events; replay it in parts`,
      );
    }
    const events = rows.map((row) => ({ uuid: row.uuid, fields: fieldsOf(row) }));
    const { triggered } = await findTriggeredAndWaited(db, [...new Set(rows.map((row) => row.eventType))]);
    const uuids = rows.map((row) => row.uuid);
    const assets = [...new Set(rows.flatMap((row) => (row.assetId ? [row.assetId] : [])))];
    const [candidates, existing, waiting] = await Promise.all([
      loadDefinitions(db, triggered),
      runPairsOf(db, uuids),
      waitingRunsOn(db, assets),
    ]);
    const plan = planReplay(events, candidates, existing, waiting);
    const definitions = new Map(candidates.map((found) => [`${found.workflowId}@${found.version}`, found.definition]));
    const result = {
      replayId: null as string | null,
      dryRun: body.dryRun,
      events: rows.length,
      runs: plan.start,
      alreadyRan: plan.alreadyRan.length,
      resumes: plan.resumes,
      enqueued: 0,
      actions: plannedActions(
        plan.start,
        events,
        (workflowId, version) => definitions.get(`${workflowId}@${version}`),
        c.env,
      ),
    };
    if (body.dryRun) return c.json(result, 200);

    const replayId = crypto.randomUUID();
    const pairs = plan.start.map((run) => ({ workflowId: run.workflowId, triggerEventUuid: run.eventUuid }));
    // Pairs first: once the queue has an event, its run may start at any moment.
    await recordReplayedPairs(db, replayId, pairs, new Date().toISOString());
    const sent = new Set(plan.start.map((run) => run.eventUuid));
    const messages = events
      .filter((event) => sent.has(event.uuid))
      .map((event) => ({ kind: "event" as const, uuid: event.uuid, inCategory: true, fields: event.fields }));
    try {
      await enqueueEvents(c.env.EVENTS, messages);
    } catch (err) {
      console.error("replay could not enqueue", { replayId, error: String(err) });
      throw new AppError(503, "unavailable", "the events could not be queued; replay again (no run starts twice)");
    }
    return c.json({ ...result, replayId, enqueued: messages.length }, 202);
  })
  .openapi(getReplay, async (c) => {
    const { id } = c.req.valid("param");
    const runs = await replayRuns(createDb(c.env.DB), id);
    if (runs.length === 0) throw new AppError(404, "not_found", "no replay with that id");
    return c.json({ replayId: id, runs: runs.map((run) => ({ ...run, runId: run.runId, status: run.status })) }, 200);
  });
