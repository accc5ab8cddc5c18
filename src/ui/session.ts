/**
 * The dashboard's local sign-in: the admin token, typed once, is exchanged for a
 * session. The cookie (HttpOnly, SameSite=Strict, Secure and `__Host-` over https,
 * signed with a key derived from ADMIN_TOKEN) carries only a random id; the session
 * itself is a D1 row keyed by the id's hash (db/sessions.ts), so deleting the row ends
 * it whatever the browser keeps: sign-out, "sign out everywhere", and a rotated
 * ADMIN_TOKEN (the row records a hash of the token it was made under). The lifetimes
 * are decided in session-policy.ts.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { createDb } from "../db/client";
import {
  deleteAllSessions,
  deleteSession,
  findSession,
  insertSession,
  sessionKey,
  tokenHash,
  touchSession,
} from "../db/sessions";
import type { DashboardEnv } from "./auth";
import { newSession, SESSION_SECONDS, sessionVerdict } from "./session-policy";

type AnyContext = Context<DashboardEnv>;

const isHttps = (c: AnyContext) => new URL(c.req.url).protocol === "https:";

/** `__Host-` binds the cookie to this exact origin; browsers accept that prefix only on Secure cookies. */
const cookieName = (c: AnyContext) => (isHttps(c) ? "__Host-session" : "session");

/** A key that is not the token itself, so the cookie's signature says nothing usable about the token. */
const signingKey = (env: Env) => `dashboard-session-v1:${env.ADMIN_TOKEN}`;

/** 32 random bytes, base64url. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** The id in a correctly signed session cookie, or null. */
async function cookieId(c: AnyContext): Promise<string | null> {
  if (!c.env.ADMIN_TOKEN) return null;
  const value = await getSignedCookie(c, signingKey(c.env), cookieName(c));
  return typeof value === "string" && /^[\w-]{43}$/.test(value) ? value : null;
}

export async function startSession(c: AnyContext, now: Date): Promise<void> {
  const id = randomId();
  await insertSession(createDb(c.env.DB), newSession(await sessionKey(id), await tokenHash(c.env.ADMIN_TOKEN), now));
  await setSignedCookie(c, cookieName(c), id, signingKey(c.env), {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: SESSION_SECONDS,
  });
}

/**
 * True when the request carries the cookie of a live session. A session found ended
 * is deleted on the spot; a live one has its last use recorded at most once a minute.
 */
export async function hasSession(c: AnyContext, now: Date): Promise<boolean> {
  const id = await cookieId(c);
  if (!id) return false;
  const db = createDb(c.env.DB);
  const key = await sessionKey(id);
  const session = await findSession(db, key);
  if (!session) return false;
  const verdict = sessionVerdict(session, await tokenHash(c.env.ADMIN_TOKEN), now);
  if (!verdict.live) {
    await deleteSession(db, key);
    return false;
  }
  if (verdict.touch) await touchSession(db, key, now);
  return true;
}

const dropCookie = (c: AnyContext) => deleteCookie(c, cookieName(c), { path: "/", secure: isHttps(c) });

/** Sign-out: this browser's session ends on the server, and the browser is told to drop the cookie. */
export async function endSession(c: AnyContext): Promise<void> {
  const id = await cookieId(c);
  if (id) await deleteSession(createDb(c.env.DB), await sessionKey(id));
  dropCookie(c);
}

/** "Sign out everywhere": every admin-token session ends, this browser's included. */
export async function endAllSessions(c: AnyContext): Promise<void> {
  await deleteAllSessions(createDb(c.env.DB));
  dropCookie(c);
}
