/** Queries on dead letters (the messages the events queue gave up on). Every verb takes `db` first. */
import { count, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { olderThan } from "./keyset";
import { type DeadLetterRow, deadLetters } from "./schema";

/** Records letters; a letter already recorded (the queue delivered it twice) is left as it is. */
export async function recordDeadLetters(db: Db, rows: DeadLetterRow[]): Promise<void> {
  // One row per statement: a body may be large, and D1 caps bound parameters per statement.
  const inserts = rows.map((row) => db.insert(deadLetters).values(row).onConflictDoNothing());
  const [first, ...rest] = inserts;
  if (first) await db.batch([first, ...rest]);
}

/** Newest first, after `position` (keyset). */
export function listDeadLetters(db: Db, query: { limit: number; position?: { receivedAt: string; id: string } }) {
  const position = query.position && { time: query.position.receivedAt, id: query.position.id };
  return db
    .select()
    .from(deadLetters)
    .where(olderThan(deadLetters.receivedAt, deadLetters.id, position))
    .orderBy(desc(deadLetters.receivedAt), desc(deadLetters.id))
    .limit(query.limit);
}

export async function getDeadLetter(db: Db, id: string): Promise<DeadLetterRow | null> {
  return (await db.select().from(deadLetters).where(eq(deadLetters.id, id)).get()) ?? null;
}

export async function markRedriven(db: Db, id: string, at: Date): Promise<void> {
  await db.update(deadLetters).set({ redrivenAt: at.toISOString() }).where(eq(deadLetters.id, id));
}

/** Deletes a letter; true if there was one. */
export async function discardDeadLetter(db: Db, id: string): Promise<boolean> {
  const deleted = await db.delete(deadLetters).where(eq(deadLetters.id, id)).returning({ id: deadLetters.id });
  return deleted.length > 0;
}

/** Letters nobody has re-driven yet, for /api/status. */
export function countOpenDeadLetters(db: Db) {
  return db.select({ count: count() }).from(deadLetters).where(isNull(deadLetters.redrivenAt));
}
