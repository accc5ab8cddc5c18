/** `/api/workflows`: create, list, read (with versions), update (a new version), enable, disable, delete. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createDb, type Db } from "../db/client";
import { countActiveRuns } from "../db/runs";
import {
  createWorkflow,
  deleteWorkflow,
  getVersion,
  getWorkflow,
  listVersions,
  listWorkflows,
  saveNewVersion,
  setEnabled,
} from "../db/workflows";
import { terminate } from "../engine/terminate";
import { AppError } from "../errors";
import { WorkflowDefinition } from "../workflows/definition";
import { parseDefinition } from "../workflows/validate";
import { bearerSecurity, createApiApp, ErrorBody, errorResponses, notFoundResponse } from "./openapi-common";

const WorkflowInput = WorkflowDefinition.extend({
  enabled: z.boolean().optional().openapi({ description: "Start enabled (default true); not part of the version" }),
}).openapi("WorkflowInput");

const VersionSummary = z.object({ version: z.number().int(), createdAt: z.string() });

const WorkflowSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    currentVersion: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WorkflowSummary");

const Workflow = WorkflowSummary.extend({
  definition: WorkflowDefinition,
  versions: z.array(VersionSummary),
}).openapi("Workflow");

const IdParam = z.object({ id: z.string() });
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Validates a body beyond its shape (graph, references), returning the definition to store. */
function definitionFrom(input: z.infer<typeof WorkflowInput>): WorkflowDefinition {
  const { enabled: _enabled, ...definition } = input;
  const result = parseDefinition(definition);
  if (!result.ok) throw new AppError(400, "bad_request", result.error);
  return result.definition;
}

async function requireWorkflow(db: Db, id: string) {
  const workflow = await getWorkflow(db, id);
  if (!workflow) throw new AppError(404, "not_found", `no workflow ${id}`);
  return workflow;
}

async function currentDefinition(db: Db, workflow: { id: string; currentVersion: number }) {
  const row = await getVersion(db, workflow.id, workflow.currentVersion);
  const result = parseDefinition(row?.definition);
  if (!result.ok)
    throw new Error(`stored workflow ${workflow.id} v${workflow.currentVersion} is invalid: ${result.error}`);
  return result.definition;
}

async function workflowView(db: Db, id: string) {
  const workflow = await requireWorkflow(db, id);
  const { deletedAt: _deleted, ...summary } = workflow;
  return { ...summary, definition: await currentDefinition(db, workflow), versions: await listVersions(db, id) };
}

const dbOf = (c: Context<{ Bindings: Env }>) => createDb(c.env.DB);

const createWorkflowRoute = createRoute({
  method: "post",
  path: "/workflows",
  summary: "Create a workflow (version 1)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: WorkflowInput } } } },
  responses: { 201: json(Workflow, "The new workflow"), ...errorResponses },
});

const listRoute = createRoute({
  method: "get",
  path: "/workflows",
  summary: "List workflows",
  security: bearerSecurity,
  responses: { 200: json(z.object({ workflows: z.array(WorkflowSummary) }), "All workflows"), ...errorResponses },
});

const getRoute = createRoute({
  method: "get",
  path: "/workflows/{id}",
  summary: "A workflow, its current definition and its versions",
  security: bearerSecurity,
  request: { params: IdParam },
  responses: { 200: json(Workflow, "The workflow"), ...errorResponses, ...notFoundResponse },
});

const getVersionRoute = createRoute({
  method: "get",
  path: "/workflows/{id}/versions/{version}",
  summary: "One saved version of a workflow",
  security: bearerSecurity,
  request: { params: IdParam.extend({ version: z.coerce.number().int().min(1) }) },
  responses: {
    200: json(
      z.object({ workflowId: z.string(), version: z.number(), createdAt: z.string(), definition: WorkflowDefinition }),
      "The version",
    ),
    ...errorResponses,
    ...notFoundResponse,
  },
});

const updateRoute = createRoute({
  method: "put",
  path: "/workflows/{id}",
  summary: "Save a new version; running runs keep the version they started with",
  security: bearerSecurity,
  request: { params: IdParam, body: { required: true, content: { "application/json": { schema: WorkflowInput } } } },
  responses: { 200: json(Workflow, "The workflow"), ...errorResponses, ...notFoundResponse },
});

const toggleRoute = (action: "enable" | "disable") =>
  createRoute({
    method: "post",
    path: `/workflows/{id}/${action}`,
    summary: `${action === "enable" ? "Enable" : "Disable"} a workflow (no new version)`,
    security: bearerSecurity,
    request: { params: IdParam },
    responses: { 200: json(Workflow, "The workflow"), ...errorResponses, ...notFoundResponse },
  });

const deleteRoute = createRoute({
  method: "delete",
  path: "/workflows/{id}",
  summary: "Delete a workflow; refused while runs are active unless force=true, which terminates them",
  security: bearerSecurity,
  request: { params: IdParam, query: z.object({ force: z.enum(["true", "false"]).optional() }) },
  responses: {
    204: { description: "Deleted" },
    409: json(ErrorBody, "Runs are active"),
    ...errorResponses,
    ...notFoundResponse,
  },
});

async function toggle(c: Context<{ Bindings: Env }>, id: string, enabled: boolean) {
  const db = dbOf(c);
  const workflow = await requireWorkflow(db, id);
  await setEnabled(db, workflow, await currentDefinition(db, workflow), enabled, new Date());
  return workflowView(db, id);
}

export const workflowsApi = createApiApp()
  .openapi(createWorkflowRoute, async (c) => {
    const input = c.req.valid("json");
    const definition = definitionFrom(input);
    const db = dbOf(c);
    const id = crypto.randomUUID();
    await createWorkflow(db, { id, definition, enabled: input.enabled ?? true, now: new Date() });
    return c.json(await workflowView(db, id), 201);
  })
  .openapi(listRoute, async (c) => {
    const rows = await listWorkflows(dbOf(c));
    return c.json({ workflows: rows.map(({ deletedAt: _deleted, ...summary }) => summary) }, 200);
  })
  .openapi(getRoute, async (c) => c.json(await workflowView(dbOf(c), c.req.valid("param").id), 200))
  .openapi(getVersionRoute, async (c) => {
    const { id, version } = c.req.valid("param");
    const db = dbOf(c);
    await requireWorkflow(db, id);
    const row = await getVersion(db, id, version);
    if (!row) throw new AppError(404, "not_found", `workflow ${id} has no version ${version}`);
    const result = parseDefinition(row.definition);
    if (!result.ok) throw new Error(`stored workflow ${id} v${version} is invalid: ${result.error}`);
    return c.json({ workflowId: id, version, createdAt: row.createdAt, definition: result.definition }, 200);
  })
  .openapi(updateRoute, async (c) => {
    const definition = definitionFrom(c.req.valid("json"));
    const db = dbOf(c);
    const workflow = await requireWorkflow(db, c.req.valid("param").id);
    try {
      await saveNewVersion(db, workflow, definition, new Date());
    } catch (err) {
      // The (workflow, version) primary key refuses a concurrent save of the same version.
      if (!String(err).includes("constraint")) throw err;
      throw new AppError(409, "conflict", "workflow was changed concurrently; reload it and save again");
    }
    return c.json(await workflowView(db, workflow.id), 200);
  })
  .openapi(toggleRoute("enable"), async (c) => c.json(await toggle(c, c.req.valid("param").id, true), 200))
  .openapi(toggleRoute("disable"), async (c) => c.json(await toggle(c, c.req.valid("param").id, false), 200))
  .openapi(deleteRoute, async (c) => {
    const db = dbOf(c);
    const workflow = await requireWorkflow(db, c.req.valid("param").id);
    const now = new Date();
    const force = c.req.valid("query").force === "true";
    const active = await countActiveRuns(db, workflow.id);
    if (active > 0 && !force) {
      throw new AppError(409, "conflict", `${active} run(s) are active; pass force=true to terminate them and delete`);
    }
    // Remove the triggers first, so no event can start a run between the terminate and the delete.
    await deleteWorkflow(db, workflow.id, now);
    if (force) await terminate(db, c.env, { workflowId: workflow.id }, now);
    return c.body(null, 204);
  });
