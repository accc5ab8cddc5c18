/**
 * The dashboard's local sign-in: the admin token, typed once, is exchanged for a
 * session cookie (HttpOnly, SameSite=Strict, Secure over https) that carries only its
 * expiry, signed with a key derived from ADMIN_TOKEN. Rotating the token therefore
 * signs every browser out. Nothing is stored server-side.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { DashboardEnv } from "./auth";

export const SESSION_SECONDS = 12 * 60 * 60;

type AnyContext = Context<DashboardEnv>;

const isHttps = (c: AnyContext) => new URL(c.req.url).protocol === "https:";

/** `__Host-` binds the cookie to this exact origin; browsers accept that prefix only on Secure cookies. */
const cookieName = (c: AnyContext) => (isHttps(c) ? "__Host-session" : "session");

/** A key that is not the token itself, so the cookie's signature says nothing usable about the token. */
const signingKey = (env: Env) => `dashboard-session-v1:${env.ADMIN_TOKEN}`;

export async function startSession(c: AnyContext, now: Date): Promise<void> {
  const expires = Math.floor(now.getTime() / 1000) + SESSION_SECONDS;
  await setSignedCookie(c, cookieName(c), String(expires), signingKey(c.env), {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    maxAge: SESSION_SECONDS,
  });
}

/** True when the request carries an unexpired session cookie signed with the current key. */
export async function hasSession(c: AnyContext, now: Date): Promise<boolean> {
  if (!c.env.ADMIN_TOKEN) return false;
  const value = await getSignedCookie(c, signingKey(c.env), cookieName(c));
  if (typeof value !== "string" || !/^\d+$/.test(value)) return false;
  return Number(value) * 1000 > now.getTime();
}

export function endSession(c: AnyContext): void {
  deleteCookie(c, cookieName(c), { path: "/", secure: isHttps(c) });
}
