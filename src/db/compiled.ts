/**
 * Writes compiled once and bound per use. Building a drizzle statement is CPU work (its
 * query builder walks every chunk of the statement), about 0.1 ms each in workerd: for
 * the engine, which writes six guarded statements per one-action run, that was a quarter
 * of a consumer's time (bench/README.md, Consumer throughput). A compiled write is built
 * by drizzle on first use, with `sql.placeholder`s for what varies, and afterwards costs
 * only the binding of its values.
 */
import { fillPlaceholders, type Placeholder, type SQL, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** A statement as D1 runs it: its SQL text and the values bound to it. */
export interface Write {
  sql: string;
  params: unknown[];
}

interface Buildable {
  toSQL(): { sql: string; params: unknown[] };
}

/** A drizzle instance that only builds SQL text: it is never connected, so nothing runs through it. */
const builder = drizzle({} as D1Database, { schema });

/** The drizzle instance compiled writes are built with. */
export type CompileDb = typeof builder;

/** `p("name")`: a value bound when the write is used, typed as an SQL expression. */
export type Slot<V> = (name: keyof V & string) => SQL;

/**
 * A write compiled on first use from `build`, which names each varying value with `p`.
 * Values are bound as they are given: JSON columns take `JSON.stringify`'d text (or null).
 */
export function compiled<V extends Record<string, unknown>>(
  build: (db: CompileDb, p: Slot<V>) => Buildable,
): (values: V) => Write {
  const p: Slot<V> = (name) => sql`${sql.placeholder(name) as Placeholder}`;
  const query = compiledQuery((db) => build(db, p));
  return (values) => {
    const { sql: text, params } = query();
    return { sql: text, params: fillPlaceholders(params, values) };
  };
}

/**
 * A statement's SQL text and parameters, built by drizzle on first use and kept, for a
 * caller that binds by position (a multi-row insert, where named values would cost more
 * to name than to bind): its `sql.placeholder`s stay in `params`, in binding order.
 */
export function compiledQuery(build: (db: CompileDb) => Buildable): () => { sql: string; params: unknown[] } {
  let query: { sql: string; params: unknown[] } | undefined;
  return () => {
    query ??= build(builder).toSQL();
    return query;
  };
}

/** A drizzle statement as a Write, built now (for writes too rare, or too varied, to compile). */
export function toWrite(statement: Buildable): Write {
  return statement.toSQL();
}

/** A JSON column's value as bound: its text, or null. */
export function jsonText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** Runs `writes` in one D1 batch (one transaction); each result is the statement's rows (RETURNING), or []. */
export async function runWrites(d1: D1Database, writes: readonly Write[]): Promise<unknown[][]> {
  if (writes.length === 0) return [];
  const results = await d1.batch(writes.map((w) => d1.prepare(w.sql).bind(...w.params)));
  return results.map((r) => r.results ?? []);
}
