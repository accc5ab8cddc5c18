/** Keyset pagination for "newest first" lists ordered by (time, id) descending. */
import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** Rows strictly after `position` in (time desc, id desc) order; undefined (no condition) on the first page. */
export function olderThan(
  time: SQLiteColumn,
  id: SQLiteColumn,
  position: { time: string; id: string } | undefined,
): SQL | undefined {
  if (!position) return undefined;
  return or(lt(time, position.time), and(eq(time, position.time), lt(id, position.id)));
}
