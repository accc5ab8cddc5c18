/**
 * Dashboard sessions in D1, and the hashes that key them (ui/session.ts decides what a
 * row means; these only read and write). Every verb takes `db` first.
 */
import { eq, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type SessionRow, sessions } from "./schema";

const encoder = new TextEncoder();

async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The row key of the session whose cookie carries `cookieId`. */
export const sessionKey = (cookieId: string) => sha256Hex(`dashboard-session-id-v1:${cookieId}`);

/** What a session row records of the ADMIN_TOKEN it was made under. */
export const tokenHash = (token: string) => sha256Hex(`dashboard-session-token-v1:${token}`);

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insert(sessions).values(row);
}

export async function findSession(db: Db, id: string): Promise<SessionRow | null> {
  return (await db.select().from(sessions).where(eq(sessions.id, id)).get()) ?? null;
}

export async function touchSession(db: Db, id: string, at: Date): Promise<void> {
  await db.update(sessions).set({ lastSeenAt: at.toISOString() }).where(eq(sessions.id, id));
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id));
}

/** "Sign out everywhere": every admin-token session ends (Cloudflare Access viewers have none). */
export async function deleteAllSessions(db: Db): Promise<number> {
  return (await db.delete(sessions)).meta.changes;
}

/**
 * The cron's pass: sessions past their absolute expiry or idle timeout, or made under
 * another ADMIN_TOKEN than the one hashing to `tokenHash`. Returns how many went.
 */
export async function deleteEndedSessions(db: Db, tokenHash: string, now: Date): Promise<number> {
  const at = now.toISOString();
  // Times are ISO text: strftime gives the same format, so the comparison sorts as time.
  const idleUntil = sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${sessions.lastSeenAt}, '+' || ${sessions.idleSeconds} || ' seconds')`;
  const result = await db
    .delete(sessions)
    .where(or(lte(sessions.expiresAt, at), ne(sessions.tokenHash, tokenHash), sql`${idleUntil} <= ${at}`));
  return result.meta.changes;
}
