/**
 * `/api/events/{uuid}/runs`: the runs an event started (its trigger) and the runs it
 * resumed at an event node, the runs its cancel-on rules ended; and, for a match a workflow suppressed, the run it was counted on.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { runsOfEvent } from "../db/dashboard";
import { getEvent } from "../db/events";
import { RUN_STATUSES } from "../db/schema";
import { suppressedBy } from "../db/suppressions";
import { AppError } from "../errors";
import { bearerSecurity, createApiApp, errorResponses, notFoundResponse } from "./openapi-common";

const RunOfEvent = z
  .object({
    runId: z.string(),
    workflowId: z.string(),
    workflowVersion: z.number().int(),
    status: z.enum(RUN_STATUSES),
    startedAt: z.string(),
    how: z.enum(["started", "resumed", "cancelled"]),
    nodeId: z.string().nullable().openapi({ description: "For a resume: the event node it resumed" }),
  })
  .openapi("RunOfEvent");

const route = createRoute({
  method: "get",
  path: "/events/{uuid}/runs",
  summary: "The runs an event started, resumed or cancelled",
  security: bearerSecurity,
  request: { params: z.object({ uuid: z.string() }) },
  responses: {
    200: {
      description: "The runs",
      content: {
        "application/json": {
          schema: z.object({
            runs: z.array(RunOfEvent),
            suppressedBy: z
              .array(
                z.object({
                  runId: z.string(),
                  workflowId: z.string(),
                  status: z.enum(RUN_STATUSES),
                  suppressedAt: z.string(),
                }),
              )
              .openapi({ description: "Workflows that suppressed this match: the run it was counted on" }),
          }),
        },
      },
    },
    ...errorResponses,
    ...notFoundResponse,
  },
});

export const eventRunsApi = createApiApp().openapi(route, async (c) => {
  const db = createDb(c.env.DB);
  const { uuid } = c.req.valid("param");
  if (!(await getEvent(db, uuid))) throw new AppError(404, "not_found", "no event with that uuid");
  const [{ started, resumed, cancelled }, suppressed] = await Promise.all([
    runsOfEvent(db, uuid),
    suppressedBy(db, uuid),
  ]);
  const view = (run: (typeof started)[number], how: "started" | "resumed" | "cancelled", nodeId: string | null) => ({
    runId: run.id,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    status: run.status,
    startedAt: run.startedAt,
    how,
    nodeId,
  });
  return c.json(
    {
      runs: [
        ...started.map((run) => view(run, "started", null)),
        ...resumed.map(({ run, nodeId }) => view(run, "resumed", nodeId)),
        ...cancelled.map((run) => view(run, "cancelled", null)),
      ],
      suppressedBy: suppressed.map(({ run, suppressedAt }) => ({
        runId: run.id,
        workflowId: run.workflowId,
        status: run.status,
        suppressedAt,
      })),
    },
    200,
  );
});
