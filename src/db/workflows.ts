/** Queries on workflows, their versions and the trigger index. Every verb takes `db` first. */
import { and, asc, desc, eq, inArray, isNull } from "drizzle-orm";
import { SYSTEM_EVENT_TYPES } from "../okta/event-types";
import { type WorkflowDefinition, waitedEventTypes } from "../workflows/definition";
import type { Db } from "./client";
import { inJson } from "./in-json";
import { waitedEventTypes as waitedTypesTable, workflows, workflowTriggers, workflowVersions } from "./schema";

/** The event types a definition's trigger listens to; empty means all 13. */
export function triggerEventTypes(definition: WorkflowDefinition): readonly string[] {
  return definition.trigger.eventTypes.length > 0 ? definition.trigger.eventTypes : SYSTEM_EVENT_TYPES;
}

function triggerRows(workflowId: string, version: number, definition: WorkflowDefinition) {
  return triggerEventTypes(definition).map((eventType) => ({ eventType, workflowId, version }));
}

/** D1 binds at most 100 parameters per statement; a trigger row binds 3. */
const TRIGGER_ROWS_PER_INSERT = 30;

function insertTriggers(db: Db, rows: ReturnType<typeof triggerRows>) {
  const statements = [];
  for (let i = 0; i < rows.length; i += TRIGGER_ROWS_PER_INSERT) {
    statements.push(db.insert(workflowTriggers).values(rows.slice(i, i + TRIGGER_ROWS_PER_INSERT)));
  }
  return statements;
}

/** Records the types a version waits for (at most 14 rows, so always one statement). */
function rememberWaitedTypes(db: Db, definition: WorkflowDefinition) {
  const rows = waitedEventTypes(definition).map((eventType) => ({ eventType }));
  return rows.length > 0 ? [db.insert(waitedTypesTable).values(rows).onConflictDoNothing()] : [];
}

/** Every event type any saved version waits for; contains "*" when some event node waits for any type. */
export async function findWaitedEventTypes(db: Db): Promise<Set<string>> {
  const rows = await db.select().from(waitedTypesTable);
  return new Set(rows.map((row) => row.eventType));
}

export async function createWorkflow(
  db: Db,
  input: { id: string; definition: WorkflowDefinition; enabled: boolean; now: Date },
): Promise<void> {
  const at = input.now.toISOString();
  await db.batch([
    db.insert(workflows).values({
      id: input.id,
      name: input.definition.name,
      enabled: input.enabled,
      currentVersion: 1,
      createdAt: at,
      updatedAt: at,
    }),
    db
      .insert(workflowVersions)
      .values({ workflowId: input.id, version: 1, definition: input.definition, createdAt: at }),
    ...rememberWaitedTypes(db, input.definition),
    ...(input.enabled ? insertTriggers(db, triggerRows(input.id, 1, input.definition)) : []),
  ]);
}

/** Saves a new version and makes it current. Throws on a concurrent save of the same version (primary key). */
export async function saveNewVersion(
  db: Db,
  workflow: { id: string; currentVersion: number; enabled: boolean },
  definition: WorkflowDefinition,
  now: Date,
): Promise<number> {
  const version = workflow.currentVersion + 1;
  const at = now.toISOString();
  await db.batch([
    db.insert(workflowVersions).values({ workflowId: workflow.id, version, definition, createdAt: at }),
    db
      .update(workflows)
      .set({ name: definition.name, currentVersion: version, updatedAt: at })
      .where(eq(workflows.id, workflow.id)),
    db.delete(workflowTriggers).where(eq(workflowTriggers.workflowId, workflow.id)),
    ...rememberWaitedTypes(db, definition),
    ...(workflow.enabled ? insertTriggers(db, triggerRows(workflow.id, version, definition)) : []),
  ]);
  return version;
}

/** Turns a workflow on or off without a new version; the trigger index follows. */
export async function setEnabled(
  db: Db,
  workflow: { id: string; currentVersion: number },
  definition: WorkflowDefinition,
  enabled: boolean,
  now: Date,
): Promise<void> {
  await db.batch([
    db.update(workflows).set({ enabled, updatedAt: now.toISOString() }).where(eq(workflows.id, workflow.id)),
    db.delete(workflowTriggers).where(eq(workflowTriggers.workflowId, workflow.id)),
    ...(enabled ? insertTriggers(db, triggerRows(workflow.id, workflow.currentVersion, definition)) : []),
  ]);
}

/** Soft delete: the workflow disappears from lists and triggers; its runs and versions stay readable. */
export async function deleteWorkflow(db: Db, id: string, now: Date): Promise<void> {
  const at = now.toISOString();
  await db.batch([
    db.update(workflows).set({ deletedAt: at, enabled: false, updatedAt: at }).where(eq(workflows.id, id)),
    db.delete(workflowTriggers).where(eq(workflowTriggers.workflowId, id)),
  ]);
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

/** The trigger index for these types and the waited-for types, in one D1 round trip. */
export async function findTriggeredAndWaited(db: Db, eventTypes: readonly string[]) {
  const [triggered, waited] = await db.batch([
    db
      .select({
        eventType: workflowTriggers.eventType,
        workflowId: workflowTriggers.workflowId,
        version: workflowTriggers.version,
      })
      .from(workflowTriggers)
      .where(inJson(workflowTriggers.eventType, eventTypes)),
    db.select().from(waitedTypesTable),
  ]);
  return { triggered, waited: new Set(waited.map((row) => row.eventType)) };
}

/** Several stored definitions in one query. */
export async function getVersions(db: Db, keys: ReadonlyArray<{ workflowId: string; version: number }>) {
  if (keys.length === 0) return [];
  const ids = [...new Set(keys.map((k) => k.workflowId))];
  const rows = [];
  // Stay under D1's 100 bound parameters per statement.
  for (let i = 0; i < ids.length; i += 90) {
    rows.push(
      ...(await db
        .select()
        .from(workflowVersions)
        .where(inArray(workflowVersions.workflowId, ids.slice(i, i + 90)))),
    );
  }
  const wanted = new Set(keys.map((k) => `${k.workflowId}@${k.version}`));
  return rows.filter((row) => wanted.has(`${row.workflowId}@${row.version}`));
}
