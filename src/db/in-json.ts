import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * `column IN (…)` with the values in one bound JSON parameter: D1 allows at most 100
 * bound parameters per statement, and a batch can name hundreds of rows.
 */
export function inJson(column: SQLiteColumn, values: readonly string[]): SQL {
  return sql`${column} in (select value from json_each(${JSON.stringify(values)}))`;
}
