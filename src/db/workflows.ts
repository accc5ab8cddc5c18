/** Queries on workflows, their versions and the trigger index. Every verb takes `db` first. */
import { and, asc, desc, eq, is, isNull, SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { SYSTEM_EVENT_TYPES } from "../okta/event-types";
import { type WorkflowDefinition, waitedEventTypes } from "../workflows/definition";
import type { Db } from "./client";
import { inJson } from "./in-json";
import {
  cancelOnTypes,
  waitedEventTypes as waitedTypesTable,
  workflows,
  workflowTriggers,
  workflowVersions,
} from "./schema";

/**
 * Rebuilds one workflow's trigger rows from what D1 holds at that moment: its current
 * version's event types if it is enabled and not deleted, else none. Every write
 * batch ends with this, inside the same transaction, so the index equals the current
 * version of the enabled workflows whatever order concurrent writes land in.
 */
function reindexTriggers(db: Db, workflowId: string) {
  return [
    db.delete(workflowTriggers).where(eq(workflowTriggers.workflowId, workflowId)),
    sql`
      insert into workflow_triggers (event_type, workflow_id, version)
      select type.value, w.id, w.current_version
      from workflows w
      join workflow_versions v on v.workflow_id = w.id and v.version = w.current_version
      join json_each(
        case when json_array_length(v.definition, '$.trigger.eventTypes') > 0
          then json_extract(v.definition, '$.trigger.eventTypes') else ${ALL_TYPES} end
      ) type
      where w.id = ${workflowId} and w.enabled = 1 and w.deleted_at is null`,
  ];
}

const ALL_TYPES = JSON.stringify(SYSTEM_EVENT_TYPES);

/**
 * Workflow writes are D1 batches of conditional statements, some of them raw SQL
 * (INSERT ... SELECT ... WHERE). drizzle's batch cannot bind raw SQL with
 * parameters, so each statement is rendered to SQL and bound on the D1 client.
 */
type Statement = SQL | { toSQL(): { sql: string; params: unknown[] } };
const dialect = new SQLiteAsyncDialect();

function prepare(db: Db, statement: Statement): D1PreparedStatement {
  const query = is(statement, SQL) ? dialect.sqlToQuery(statement) : statement.toSQL();
  return db.$client.prepare(query.sql).bind(...query.params);
}

/** Runs statements as one D1 batch: one transaction, applied whole or not at all. */
function runBatch(db: Db, statements: Statement[]): Promise<D1Result[]> {
  return db.$client.batch(statements.map((statement) => prepare(db, statement)));
}

/** Records the types a version waits for (at most 14 rows, so always one statement). */
function rememberWaitedTypes(db: Db, definition: WorkflowDefinition) {
  const rows = waitedEventTypes(definition).map((eventType) => ({ eventType }));
  return rows.length > 0 ? [db.insert(waitedTypesTable).values(rows).onConflictDoNothing()] : [];
}

/**
 * Indexes a version's cancel-on types, only if that version was just written (the
 * statement before it in the batch): a refused save adds no row. On conflict nothing:
 * the rows of a version never change.
 */
function rememberCancelOnTypes(workflowId: string, version: number, definition: WorkflowDefinition) {
  const types = definition.cancelOn?.eventTypes ?? [];
  if (types.length === 0) return [];
  return [
    sql`
      insert into cancel_on_types (event_type, workflow_id, version)
      select type.value, ${workflowId}, ${version} from json_each(${JSON.stringify(types)}) type
      where exists (select 1 from workflow_versions where workflow_id = ${workflowId} and version = ${version})
      on conflict do nothing`,
  ];
}

/** A workflow row as read before a write; the write applies only if the row is still exactly this. */
export type WorkflowState = { id: string; currentVersion: number; enabled: boolean; updatedAt: string };

/** The workflow changed (or was deleted) between the read and the write. */
export class StaleWorkflowError extends Error {
  override readonly name = "StaleWorkflowError";
}

/** Another live workflow already has this name. */
export class DuplicateNameError extends Error {
  override readonly name = "DuplicateNameError";
  constructor(readonly existingId: string) {
    super(`a workflow with this name already exists: ${existingId}`);
  }
}

/** The ETag of a workflow's state: it changes with every write (version, switch, or updatedAt). */
export function etagOf(workflow: WorkflowState): string {
  return `"${workflow.currentVersion}.${workflow.enabled ? 1 : 0}.${Date.parse(workflow.updatedAt).toString(36)}"`;
}

/** A time strictly after the row's updatedAt, so every write changes the ETag even within one millisecond. */
function nextUpdatedAt(previous: string, now: Date): string {
  return new Date(Math.max(now.getTime(), Date.parse(previous) + 1)).toISOString();
}

/** The condition "this row is still as it was read". */
const unchanged = (workflow: WorkflowState) =>
  and(
    eq(workflows.id, workflow.id),
    eq(workflows.currentVersion, workflow.currentVersion),
    eq(workflows.enabled, workflow.enabled),
    eq(workflows.updatedAt, workflow.updatedAt),
    isNull(workflows.deletedAt),
  );

/** No other live workflow has this name (ASCII case-insensitive, as people read names). */
const nameFree = (name: string, exceptId: string) =>
  sql`not exists (select 1 from workflows o where o.name = ${name} collate nocase and o.id <> ${exceptId} and o.deleted_at is null)`;

/** The live workflow with this name, if any. */
export async function findByName(db: Db, name: string) {
  return db
    .select({ id: workflows.id })
    .from(workflows)
    .where(and(sql`${workflows.name} = ${name} collate nocase`, isNull(workflows.deletedAt)))
    .get();
}

/** Every event type any saved version waits for; contains "*" when some event node waits for any type. */
export async function findWaitedEventTypes(db: Db): Promise<Set<string>> {
  const rows = await db.select().from(waitedTypesTable);
  return new Set(rows.map((row) => row.eventType));
}

/** Creates a workflow at version 1. Throws DuplicateNameError when a live workflow has the name (checked inside the write). */
export async function createWorkflow(
  db: Db,
  input: { id: string; definition: WorkflowDefinition; enabled: boolean; now: Date },
): Promise<void> {
  const at = input.now.toISOString();
  const { name } = input.definition;
  const [inserted] = await runBatch(db, [
    sql`
      insert into workflows (id, name, enabled, current_version, created_at, updated_at)
      select ${input.id}, ${name}, ${input.enabled ? 1 : 0}, 1, ${at}, ${at}
      where ${nameFree(name, input.id)}`,
    sql`
      insert into workflow_versions (workflow_id, version, definition, created_at)
      select ${input.id}, 1, ${JSON.stringify(input.definition)}, ${at}
      where exists (select 1 from workflows where id = ${input.id})`,
    ...rememberWaitedTypes(db, input.definition),
    ...rememberCancelOnTypes(input.id, 1, input.definition),
    ...reindexTriggers(db, input.id),
  ]);
  if (inserted?.meta.changes === 0) {
    const existing = await findByName(db, name);
    throw new DuplicateNameError(existing?.id ?? "unknown");
  }
}

/**
 * Saves a new version and makes it current, only if the workflow is still as read
 * (else StaleWorkflowError) and no other live workflow has the new name (else
 * DuplicateNameError). Atomic: one D1 batch, and nothing in it applies otherwise.
 */
export async function saveNewVersion(
  db: Db,
  workflow: WorkflowState,
  definition: WorkflowDefinition,
  now: Date,
): Promise<number> {
  const version = workflow.currentVersion + 1;
  const at = nextUpdatedAt(workflow.updatedAt, now);
  let results: D1Result[];
  try {
    results = await runBatch(db, [
      db
        .update(workflows)
        .set({ name: definition.name, currentVersion: version, updatedAt: at })
        .where(and(unchanged(workflow), nameFree(definition.name, workflow.id))),
      // Only when the update above applied: the version it points at.
      sql`
        insert into workflow_versions (workflow_id, version, definition, created_at)
        select ${workflow.id}, ${version}, ${JSON.stringify(definition)}, ${at}
        where exists (select 1 from workflows where id = ${workflow.id} and current_version = ${version} and updated_at = ${at})`,
      ...rememberWaitedTypes(db, definition),
      ...rememberCancelOnTypes(workflow.id, version, definition),
      ...reindexTriggers(db, workflow.id),
    ]);
  } catch (err) {
    // The (workflow, version) key: a concurrent save of the same version won.
    if (String(err).includes("constraint")) throw new StaleWorkflowError("saved concurrently");
    throw err;
  }
  if (!applied(results)) await explainRefusal(db, workflow, definition.name);
  return version;
}

/** Whether the batch's first statement (the conditional update of the workflow row) changed it. */
const applied = (results: D1Result[]) => (results[0]?.meta.changes ?? 0) > 0;

/** Why a conditional write applied to nothing: another workflow has the name, or the row changed. */
async function explainRefusal(db: Db, workflow: WorkflowState, name: string | null): Promise<never> {
  const holder = name === null ? undefined : await findByName(db, name);
  if (holder && holder.id !== workflow.id) throw new DuplicateNameError(holder.id);
  throw new StaleWorkflowError(`workflow ${workflow.id} changed since it was read`);
}

/** Turns a workflow on or off without a new version, only if it is still as read (else StaleWorkflowError); the trigger index follows. */
export async function setEnabled(db: Db, workflow: WorkflowState, enabled: boolean, now: Date): Promise<void> {
  const results = await runBatch(db, [
    db
      .update(workflows)
      .set({ enabled, updatedAt: nextUpdatedAt(workflow.updatedAt, now) })
      .where(unchanged(workflow)),
    ...reindexTriggers(db, workflow.id),
  ]);
  if (!applied(results)) await explainRefusal(db, workflow, null);
}

/** Soft delete, only if the workflow is still as read (else StaleWorkflowError): it leaves lists and triggers; its runs and versions stay readable. */
export async function deleteWorkflow(db: Db, workflow: WorkflowState, now: Date): Promise<void> {
  const at = nextUpdatedAt(workflow.updatedAt, now);
  const results = await runBatch(db, [
    db.update(workflows).set({ deletedAt: at, enabled: false, updatedAt: at }).where(unchanged(workflow)),
    ...reindexTriggers(db, workflow.id),
  ]);
  if (!applied(results)) await explainRefusal(db, workflow, null);
}

export async function getWorkflow(db: Db, id: string) {
  return db
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, id), isNull(workflows.deletedAt)))
    .get();
}

export async function listWorkflows(db: Db) {
  return db.select().from(workflows).where(isNull(workflows.deletedAt)).orderBy(asc(workflows.name), asc(workflows.id));
}

export async function listVersions(db: Db, workflowId: string) {
  return db
    .select({ version: workflowVersions.version, createdAt: workflowVersions.createdAt })
    .from(workflowVersions)
    .where(eq(workflowVersions.workflowId, workflowId))
    .orderBy(desc(workflowVersions.version));
}

/** A stored definition, still unparsed: callers validate it (an older deploy may have written it). */
export async function getVersion(db: Db, workflowId: string, version: number) {
  return db
    .select()
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version)))
    .get();
}

/** The enabled workflows (id and current version) whose trigger lists one of these event types. Uses the index. */
export async function findTriggered(db: Db, eventTypes: readonly string[]) {
  if (eventTypes.length === 0) return [];
  return db
    .select({
      eventType: workflowTriggers.eventType,
      workflowId: workflowTriggers.workflowId,
      version: workflowTriggers.version,
    })
    .from(workflowTriggers)
    .where(inJson(workflowTriggers.eventType, eventTypes));
}

/** The trigger index for these types, the waited-for types and the cancel-on index for these types, in one D1 round trip. */
export async function findTriggeredAndWaited(db: Db, eventTypes: readonly string[]) {
  const [triggered, waited, cancelling] = await db.batch([
    db
      .select({
        eventType: workflowTriggers.eventType,
        workflowId: workflowTriggers.workflowId,
        version: workflowTriggers.version,
      })
      .from(workflowTriggers)
      .where(inJson(workflowTriggers.eventType, eventTypes)),
    db.select().from(waitedTypesTable),
    // Every version whose cancel-on names one of these types, enabled or not: a run keeps its version's rule.
    db
      .select({
        eventType: cancelOnTypes.eventType,
        workflowId: cancelOnTypes.workflowId,
        version: cancelOnTypes.version,
      })
      .from(cancelOnTypes)
      .where(inJson(cancelOnTypes.eventType, eventTypes)),
  ]);
  return { triggered, waited: new Set(waited.map((row) => row.eventType)), cancelling };
}

/** Several stored definitions in one query. */
export async function getVersions(db: Db, keys: ReadonlyArray<{ workflowId: string; version: number }>) {
  if (keys.length === 0) return [];
  const unique = [...new Map(keys.map((k) => [`${k.workflowId}@${k.version}`, k])).values()];
  const rows = [];
  // Exactly the (workflow, version) pairs asked for, never a workflow's whole history
  // (up to 256 KiB a version); one bound JSON parameter per chunk.
  for (let i = 0; i < unique.length; i += 500) {
    const pairs = JSON.stringify(unique.slice(i, i + 500).map((k) => [k.workflowId, k.version]));
    rows.push(
      ...(await db
        .select()
        .from(workflowVersions)
        .where(
          sql`(${workflowVersions.workflowId}, ${workflowVersions.version}) IN (SELECT value ->> 0, value ->> 1 FROM json_each(${pairs}))`,
        )),
    );
  }
  return rows;
}
