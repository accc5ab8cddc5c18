/**
 * How big a workflow definition may be. Hostile or careless definitions must get a
 * 400 or 413, never a stack overflow or a D1 error: the shape is measured
 * iteratively before zod (which recurses) ever sees it. Pure.
 */

/** The largest definition accepted, as JSON bytes: far below D1's 2 MB per row, and cheap to cache. */
export const MAX_DEFINITION_BYTES = 256 * 1024;
/** Nodes per definition. */
export const MAX_NODES = 500;
/** JSON nesting depth of a whole definition (a predicate level takes two: `{"and": [ ... ]}`). */
export const MAX_DEPTH = 64;

/** The nesting depth of a JSON value, measured without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The reason a raw definition is too deeply nested, or null. */
export function depthError(value: unknown): string | null {
  return jsonDepth(value) > MAX_DEPTH
    ? `the definition is nested more than ${MAX_DEPTH} levels deep (filters, conditions and bodies count)`
    : null;
}
