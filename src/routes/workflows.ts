/** `/api/workflows`: create, list, read (with versions), update (a new version), enable, disable, delete. */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createDb, type Db } from "../db/client";
import { countActiveRuns } from "../db/runs";
import {
  createWorkflow,
  DuplicateNameError,
  deleteWorkflow,
  etagOf,
  getVersion,
  getWorkflow,
  listVersions,
  listWorkflows,
  StaleWorkflowError,
  saveNewVersion,
  setEnabled,
  type WorkflowState,
} from "../db/workflows";
import { terminate } from "../engine/terminate";
import { AppError } from "../errors";
import { outboundPolicy } from "../workflows/actions/outbound-policy";
import { policyIssues } from "../workflows/actions/save-check";
import { WorkflowDefinition } from "../workflows/definition";
import { MAX_DEFINITION_BYTES } from "../workflows/limits";
import { parseDefinition } from "../workflows/validate";
import { bearerSecurity, createApiApp, ErrorBody, errorResponses, noBody, notFoundResponse } from "./openapi-common";

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

const conflictResponses = {
  409: json(ErrorBody, "The name is taken by another workflow, or the workflow changed meanwhile"),
  412: json(ErrorBody, "If-Match names a state the workflow is no longer in"),
} as const;
const tooLarge = { 413: json(ErrorBody, `The definition is over ${MAX_DEFINITION_BYTES} bytes`) } as const;

/**
 * Validates a body as a whole: its shape, graph and references, and the outbound
 * policy (declared secrets, their origins, no call to this service itself). Every
 * problem is reported in one 400, each with its field's path.
 */
function definitionFrom(c: Context<{ Bindings: Env }>, body: unknown): WorkflowDefinition {
  const input = typeof body === "object" && body !== null ? { ...body } : body;
  if (typeof input === "object" && input !== null) Reflect.deleteProperty(input, "enabled");
  const self = [new URL(c.req.url).origin];
  const policy = outboundPolicy(c.env);
  const result = parseDefinition(input, (nodes) => policyIssues(nodes, policy, c.env, self));
  if (!result.ok) throw new AppError(400, "bad_request", result.error);
  return result.definition;
}

/**
 * Checks a definition body before the route's zod validator: too large is 413, too
 * deep is 400 (zod recurses), and any other problem is a 400 listing every problem
 * with its path, where the validator would name only the first.
 */
const definitionBodyGuard: MiddlewareHandler<{ Bindings: Env }> = (c, next) =>
  bodyLimit({
    maxSize: MAX_DEFINITION_BYTES,
    onError: () => {
      throw new AppError(413, "payload_too_large", `a workflow definition is at most ${MAX_DEFINITION_BYTES} bytes`);
    },
  })(c, async () => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new AppError(400, "bad_request", `body is not valid JSON: ${err.message}`);
    }
    definitionFrom(c, body);
    await next();
  });

/** 412 when the client's If-Match names another state than the one read: someone else wrote since the client looked. */
function checkIfMatch(c: Context<{ Bindings: Env }>, workflow: WorkflowState): void {
  const expected = c.req.header("if-match");
  if (expected === undefined || expected.trim() === "*") return;
  const etag = etagOf(workflow);
  if (!expected.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
    throw new AppError(
      412,
      "precondition_failed",
      `workflow ${workflow.id} has changed (ETag ${etag}); reload it and retry`,
    );
  }
}

/** Runs a conditional write, answering a lost race with 412 (If-Match given) or 409, and a taken name with 409. */
async function write<T>(c: Context<{ Bindings: Env }>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DuplicateNameError) {
      throw new AppError(409, "conflict", `a workflow with this name already exists: ${err.existingId}`);
    }
    if (err instanceof StaleWorkflowError) {
      if (c.req.header("if-match"))
        throw new AppError(412, "precondition_failed", `${err.message}; reload it and retry`);
      throw new AppError(409, "conflict", "workflow was changed concurrently; reload it and save again");
    }
    throw err;
  }
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
  return {
    etag: etagOf(workflow),
    view: { ...summary, definition: await currentDefinition(db, workflow), versions: await listVersions(db, id) },
  };
}

/** Answers with the workflow and its ETag, the value a client sends back as If-Match. */
async function viewResponse<S extends 200 | 201>(c: Context<{ Bindings: Env }>, id: string, status: S) {
  const { etag, view } = await workflowView(dbOf(c), id);
  c.header("ETag", etag);
  return c.json(view, status);
}

const dbOf = (c: Context<{ Bindings: Env }>) => createDb(c.env.DB);

const createWorkflowRoute = createRoute({
  method: "post",
  path: "/workflows",
  summary: "Create a workflow (version 1)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: WorkflowInput } } } },
  responses: { 201: json(Workflow, "The new workflow"), ...errorResponses, ...conflictResponses, ...tooLarge },
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
  responses: {
    200: json(Workflow, "The workflow"),
    ...errorResponses,
    ...notFoundResponse,
    ...conflictResponses,
    ...tooLarge,
  },
});

const toggleRoute = (action: "enable" | "disable") =>
  createRoute({
    method: "post",
    path: `/workflows/{id}/${action}`,
    summary: `${action === "enable" ? "Enable" : "Disable"} a workflow (no new version)`,
    security: bearerSecurity,
    middleware: [noBody] as const,
    request: { params: IdParam },
    responses: { 200: json(Workflow, "The workflow"), ...errorResponses, ...notFoundResponse, ...conflictResponses },
  });

const deleteRoute = createRoute({
  method: "delete",
  path: "/workflows/{id}",
  summary: "Delete a workflow; refused while runs are active unless force=true, which terminates them",
  security: bearerSecurity,
  middleware: [noBody] as const,
  request: { params: IdParam, query: z.object({ force: z.enum(["true", "false"]).optional() }) },
  responses: {
    204: { description: "Deleted" },
    409: json(ErrorBody, "Runs are active, or the workflow changed meanwhile"),
    412: json(ErrorBody, "If-Match names a state the workflow is no longer in"),
    ...errorResponses,
    ...notFoundResponse,
  },
});

async function toggle(c: Context<{ Bindings: Env }>, id: string, enabled: boolean) {
  const db = dbOf(c);
  const workflow = await requireWorkflow(db, id);
  checkIfMatch(c, workflow);
  await write(c, () => setEnabled(db, workflow, enabled, new Date()));
  return viewResponse(c, id, 200);
}

export const workflowsApi = createApiApp();
workflowsApi.on("POST", "/workflows", definitionBodyGuard);
workflowsApi.on("PUT", "/workflows/:id", definitionBodyGuard);
workflowsApi
  .openapi(createWorkflowRoute, async (c) => {
    const input = c.req.valid("json");
    const definition = definitionFrom(c, input);
    const id = crypto.randomUUID();
    await write(c, () => createWorkflow(dbOf(c), { id, definition, enabled: input.enabled ?? true, now: new Date() }));
    return viewResponse(c, id, 201);
  })
  .openapi(listRoute, async (c) => {
    const rows = await listWorkflows(dbOf(c));
    return c.json({ workflows: rows.map(({ deletedAt: _deleted, ...summary }) => summary) }, 200);
  })
  .openapi(getRoute, async (c) => viewResponse(c, c.req.valid("param").id, 200))
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
    const definition = definitionFrom(c, c.req.valid("json"));
    const db = dbOf(c);
    const workflow = await requireWorkflow(db, c.req.valid("param").id);
    checkIfMatch(c, workflow);
    await write(c, () => saveNewVersion(db, workflow, definition, new Date()));
    return viewResponse(c, workflow.id, 200);
  })
  .openapi(toggleRoute("enable"), async (c) => toggle(c, c.req.valid("param").id, true))
  .openapi(toggleRoute("disable"), async (c) => toggle(c, c.req.valid("param").id, false))
  .openapi(deleteRoute, async (c) => {
    const db = dbOf(c);
    const workflow = await requireWorkflow(db, c.req.valid("param").id);
    checkIfMatch(c, workflow);
    const now = new Date();
    const force = c.req.valid("query").force === "true";
    const active = await countActiveRuns(db, workflow.id);
    if (active > 0 && !force) {
      throw new AppError(409, "conflict", `${active} run(s) are active; pass force=true to terminate them and delete`);
    }
    // Remove the triggers first, so no event can start a run between the terminate and the delete.
    await write(c, () => deleteWorkflow(db, workflow, now));
    if (force) await terminate(db, c.env, { workflowId: workflow.id }, now);
    return c.body(null, 204);
  });
