/**
 * When a dashboard session counts (pure). A session ends at the first of: its absolute
 * expiry (12 h after sign-in, however active), 30 min without a request, or a change
 * of ADMIN_TOKEN. A request on a live session moves last_seen_at forward, but at most
 * once a minute, so that reading pages costs no D1 write each time.
 */
export const SESSION_SECONDS = 12 * 60 * 60;
export const IDLE_SECONDS = 30 * 60;
export const TOUCH_EVERY_SECONDS = 60;

/** What a session's row says about its use at `now`. */
export interface SessionTimes {
  tokenHash: string;
  lastSeenAt: string;
  expiresAt: string;
  idleSeconds: number;
}

export type SessionVerdict =
  | { live: true; touch: boolean }
  | { live: false; reason: "expired" | "idle" | "token_rotated" };

/** Whether the session may be used at `now` under the token hashing to `tokenHash`, and whether to record this use. */
export function sessionVerdict(session: SessionTimes, tokenHash: string, now: Date): SessionVerdict {
  const at = now.getTime();
  if (session.tokenHash !== tokenHash) return { live: false, reason: "token_rotated" };
  const expires = Date.parse(session.expiresAt);
  const lastSeen = Date.parse(session.lastSeenAt);
  // An unreadable time ends the session rather than keeping it forever.
  if (!(at < expires)) return { live: false, reason: "expired" };
  if (!(at < lastSeen + session.idleSeconds * 1000)) return { live: false, reason: "idle" };
  return { live: true, touch: at - lastSeen >= TOUCH_EVERY_SECONDS * 1000 };
}

/** The row of a session started at `now` (pure; the id and token hash come from the caller). */
export function newSession(id: string, tokenHash: string, now: Date) {
  const created = now.toISOString();
  return {
    id,
    tokenHash,
    createdAt: created,
    lastSeenAt: created,
    expiresAt: new Date(now.getTime() + SESSION_SECONDS * 1000).toISOString(),
    idleSeconds: IDLE_SECONDS,
  };
}
