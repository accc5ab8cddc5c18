/**
 * Loading stored definitions for the engine. Versions are immutable, so a parsed
 * definition is cached per isolate by (workflow, version): a busy consumer parses
 * each version once, not once per event.
 */
import type { Db } from "../db/client";
import { getVersion, getVersions } from "../db/workflows";
import type { WorkflowDefinition } from "../workflows/definition";
import { parseDefinition } from "../workflows/validate";

const MAX_CACHED = 20_000;
const cache = new Map<string, WorkflowDefinition>();

const keyOf = (workflowId: string, version: number) => `${workflowId}@${version}`;

function remember(key: string, definition: WorkflowDefinition): void {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, definition);
}

/** A stored definition is a trust boundary too: an older deploy may have written a shape we no longer accept. */
function parseStored(workflowId: string, version: number, stored: unknown): WorkflowDefinition {
  const result = parseDefinition(stored);
  if (!result.ok) throw new InvalidStoredDefinition(`workflow ${workflowId} v${version}: ${result.error}`);
  return result.definition;
}

export class InvalidStoredDefinition extends Error {
  override readonly name = "InvalidStoredDefinition";
}

/** One definition; throws InvalidStoredDefinition when it is missing or no longer valid. */
export async function loadDefinition(db: Db, workflowId: string, version: number): Promise<WorkflowDefinition> {
  const key = keyOf(workflowId, version);
  const cached = cache.get(key);
  if (cached) return cached;
  const row = await getVersion(db, workflowId, version);
  if (!row) throw new InvalidStoredDefinition(`workflow ${workflowId} v${version} does not exist`);
  const definition = parseStored(workflowId, version, row.definition);
  remember(key, definition);
  return definition;
}

/** Many definitions with at most one query for those not cached; invalid ones are logged and skipped. */
export async function loadDefinitions<K extends { workflowId: string; version: number }>(
  db: Db,
  keys: readonly K[],
): Promise<Array<K & { definition: WorkflowDefinition }>> {
  const missing = keys.filter((k) => !cache.has(keyOf(k.workflowId, k.version)));
  for (const row of await getVersions(db, missing)) {
    try {
      remember(keyOf(row.workflowId, row.version), parseStored(row.workflowId, row.version, row.definition));
    } catch (err) {
      console.error("skipping invalid stored workflow definition", { error: String(err) });
    }
  }
  return keys.flatMap((k) => {
    const definition = cache.get(keyOf(k.workflowId, k.version));
    return definition ? [{ ...k, definition }] : [];
  });
}
