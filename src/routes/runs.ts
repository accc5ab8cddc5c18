/** `/api/runs`: runs newest first, one run with its path (steps) and trigger event, terminate. */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { fieldsOf } from "../db/event-rows";
import { getEvent } from "../db/events";
import { getRun, listRuns, listSteps } from "../db/runs";
import { RUN_STATUSES, type RunRow } from "../db/schema";
import { LISTED_SUPPRESSED, suppressedCounts, suppressionOfRun } from "../db/suppressions";
import { terminate } from "../engine/terminate";
import { AppError } from "../errors";
import { EventFields } from "../okta/event-fields";
import type { Lateness } from "../workflows/lateness";
import { CountedEvents } from "../workflows/threshold";
import { decodeCursor, pageOf } from "./cursor";
import { bearerSecurity, createApiApp, ErrorBody, errorResponses, noBody, notFoundResponse } from "./openapi-common";
import { latenessOf } from "./run-lateness";

const Run = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    triggerEventUuid: z.string(),
    assetId: z.string().nullable(),
    status: z.enum(RUN_STATUSES),
    waitingFor: z.unknown().nullable().openapi({ description: "For a waiting run: event types, filter, asset, until" }),
    error: z.string().nullable(),
    cancelledBy: z.string().nullable().openapi({
      description: "For a cancelled run: the uuid of the event whose cancel-on rule ended it",
    }),
    startedAt: z.string(),
    updatedAt: z.string(),
    endedAt: z.string().nullable(),
    late: z
      .object({
        late: z.boolean().openapi({ description: "Started more than lateAfterSeconds after its event was published" }),
        lateBySeconds: z.number().int().openapi({ description: "Run start minus the trigger event's published time" }),
        lateBy: z.string().openapi({ description: 'The same, for people: "26 h"' }),
        lateAfterSeconds: z.number().int().openapi({ description: "The workflow's limit (default 3600)" }),
      })
      .nullable()
      .openapi({ description: "Null for a run stored without its trigger's fields" }),
    counted: CountedEvents.nullable().openapi({
      description: "For a run a threshold trigger started: the key, the count and the events counted",
    }),
  })
  .openapi("Run");

const Step = z
  .object({
    nodeId: z.string(),
    seq: z.number().int(),
    kind: z.enum(["action", "condition", "event"]),
    status: z.string(),
    outcome: z.string().nullable().openapi({ description: "The branch taken: next, true, false or timeout" }),
    output: z.unknown().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi("RunStep");

const RunSuppression = z
  .object({
    count: z.number().int().openapi({ description: "Matches suppressed in this run's window (they started no run)" }),
    events: z
      .array(z.object({ eventUuid: z.string(), suppressedAt: z.string() }))
      .openapi({ description: `The first ${LISTED_SUPPRESSED} suppressed events, oldest first` }),
    window: z
      .object({ source: z.string().nullable(), key: z.string(), until: z.string() })
      .nullable()
      .openapi({ description: "While the run still holds its window: the rendered key and when the window ends" }),
  })
  .openapi("RunSuppression");

const RunDetail = Run.extend({
  trigger: EventFields.nullable(),
  steps: z.array(Step),
  suppressed: RunSuppression,
}).openapi("RunDetail");

function runView(row: RunRow, late: Map<string, Lateness | null>) {
  const { leaseUntil: _lease, ...run } = row;
  return { ...run, late: late.get(row.id) ?? null };
}

const ListedRun = Run.extend({
  suppressedCount: z
    .number()
    .int()
    .openapi({ description: "Matches its suppression window held back (see RunDetail)" }),
}).openapi("ListedRun");

const isoDate = z.iso.datetime({ offset: true });
const CursorPosition = z.object({ startedAt: z.string(), id: z.string() });

const listRoute = createRoute({
  method: "get",
  path: "/runs",
  summary: "List runs, newest first",
  security: bearerSecurity,
  request: {
    query: z.object({
      workflowId: z.string().optional(),
      status: z.enum(RUN_STATUSES).optional(),
      id: z.string().optional().openapi({ description: "Asset ID of the triggering event" }),
      since: isoDate.optional(),
      until: isoDate.optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: "A page of runs",
      content: {
        "application/json": { schema: z.object({ runs: z.array(ListedRun), nextCursor: z.string().nullable() }) },
      },
    },
    ...errorResponses,
  },
});

const IdParam = z.object({ id: z.string() });

const getRoute = createRoute({
  method: "get",
  path: "/runs/{id}",
  summary: "A run with its steps (the Structure) and the triggering event's fields",
  security: bearerSecurity,
  request: { params: IdParam },
  responses: {
    200: { description: "The run", content: { "application/json": { schema: RunDetail } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

const terminateRoute = createRoute({
  method: "post",
  path: "/runs/{id}/terminate",
  summary: "Terminate a running or waiting run",
  security: bearerSecurity,
  middleware: [noBody] as const,
  request: { params: IdParam },
  responses: {
    200: { description: "The terminated run", content: { "application/json": { schema: Run } } },
    409: { description: "The run has already ended", content: { "application/json": { schema: ErrorBody } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

export const runsApi = createApiApp()
  .openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const db = createDb(c.env.DB);
    const rows = await listRuns(db, {
      workflowId: query.workflowId,
      status: query.status,
      assetId: query.id,
      since: query.since && new Date(query.since).toISOString(),
      until: query.until && new Date(query.until).toISOString(),
      after: query.cursor ? decodeCursor(query.cursor, CursorPosition) : undefined,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (row) => ({ startedAt: row.startedAt, id: row.id }));
    const [late, suppressed] = await Promise.all([
      latenessOf(db, page),
      suppressedCounts(
        db,
        page.map((row) => row.id),
      ),
    ]);
    const listed = page.map((row) => ({ ...runView(row, late), suppressedCount: suppressed.get(row.id) ?? 0 }));
    return c.json({ runs: listed, nextCursor }, 200);
  })
  .openapi(getRoute, async (c) => {
    const db = createDb(c.env.DB);
    const run = await getRun(db, c.req.valid("param").id);
    if (!run) throw new AppError(404, "not_found", "no run with that id");
    const [trigger, steps, late, suppressed] = await Promise.all([
      getEvent(db, run.triggerEventUuid),
      listSteps(db, run.id),
      latenessOf(db, [run]),
      suppressionOfRun(db, run),
    ]);
    return c.json(
      {
        ...runView(run, late),
        trigger: trigger ? fieldsOf(trigger) : null,
        steps: steps.map(({ runId: _run, ...step }) => step),
        suppressed,
      },
      200,
    );
  })
  .openapi(terminateRoute, async (c) => {
    const db = createDb(c.env.DB);
    const id = c.req.valid("param").id;
    const run = await getRun(db, id);
    if (!run) throw new AppError(404, "not_found", "no run with that id");
    const terminated = await terminate(db, c.env, { runId: id }, new Date());
    if (terminated.length === 0) throw new AppError(409, "conflict", `run has already ended (${run.status})`);
    const after = await getRun(db, id);
    if (!after) throw new AppError(404, "not_found", "no run with that id");
    return c.json(runView(after, await latenessOf(db, [after])), 200);
  });
