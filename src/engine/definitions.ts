/**
 * Loading stored definitions for the engine. Versions are immutable, so a parsed
 * definition is cached per isolate by (workflow, version): a busy consumer parses
 * each version once, not once per event.
 */
import type { Db } from "../db/client";
import { getVersion, getVersions } from "../db/workflows";
import type { WorkflowDefinition } from "../workflows/definition";
import { parseDefinition } from "../workflows/validate";

/**
 * The cache's budget, counted as the definitions' JSON length: an isolate has 128 MB,
 * and a count of entries says nothing about their size (a definition may be 256 KiB).
 */
export const MAX_CACHED_BYTES = 8 * 1024 * 1024;
const cache = new Map<string, { definition: WorkflowDefinition; bytes: number }>();
let cachedBytes = 0;

const keyOf = (workflowId: string, version: number) => `${workflowId}@${version}`;

/** The cache's current size in JSON characters, for tests and logs. */
export function definitionCacheBytes(): number {
  return cachedBytes;
}

/** Least recently used first out: a Map iterates in insertion order, and a hit re-inserts. */
function remember(key: string, definition: WorkflowDefinition, bytes: number): void {
  if (bytes > MAX_CACHED_BYTES) return;
  forget(key);
  for (const [oldest, entry] of cache) {
    if (cachedBytes + bytes <= MAX_CACHED_BYTES) break;
    cache.delete(oldest);
    cachedBytes -= entry.bytes;
  }
  cache.set(key, { definition, bytes });
  cachedBytes += bytes;
}

function forget(key: string): void {
  const entry = cache.get(key);
  if (!entry) return;
  cache.delete(key);
  cachedBytes -= entry.bytes;
}

function cached(key: string): WorkflowDefinition | undefined {
  const entry = cache.get(key);
  if (!entry) return undefined;
  cache.delete(key);
  cache.set(key, entry);
  return entry.definition;
}

const sizeOf = (stored: unknown) => JSON.stringify(stored ?? null).length;

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
  const hit = cached(key);
  if (hit) return hit;
  const row = await getVersion(db, workflowId, version);
  if (!row) throw new InvalidStoredDefinition(`workflow ${workflowId} v${version} does not exist`);
  const definition = parseStored(workflowId, version, row.definition);
  remember(key, definition, sizeOf(row.definition));
  return definition;
}

/** Many definitions with at most one query for those not cached; invalid ones are logged and skipped. */
export async function loadDefinitions<K extends { workflowId: string; version: number }>(
  db: Db,
  keys: readonly K[],
): Promise<Array<K & { definition: WorkflowDefinition }>> {
  // Found here, not read back from the cache: a batch larger than the cache would evict its own first entries.
  const found = new Map<string, WorkflowDefinition>();
  for (const k of keys) {
    const key = keyOf(k.workflowId, k.version);
    const hit = cached(key);
    if (hit) found.set(key, hit);
  }
  const missing = keys.filter((k) => !found.has(keyOf(k.workflowId, k.version)));
  for (const row of await getVersions(db, missing)) {
    try {
      const key = keyOf(row.workflowId, row.version);
      const definition = parseStored(row.workflowId, row.version, row.definition);
      found.set(key, definition);
      remember(key, definition, sizeOf(row.definition));
    } catch (err) {
      console.error(
        JSON.stringify({
          msg: "skipping invalid stored workflow definition",
          workflowId: row.workflowId,
          version: row.version,
          error: String(err),
        }),
      );
    }
  }
  return keys.flatMap((k) => {
    const definition = found.get(keyOf(k.workflowId, k.version));
    return definition ? [{ ...k, definition }] : [];
  });
}
