/**
 * Server-side dashboard sessions, through the Worker's fetch and the real local D1:
 * sign-out, "sign out everywhere" and rotating ADMIN_TOKEN each end a session for good,
 * and a cookie is worth nothing without its row.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sessionKey, tokenHash } from "../src/db/sessions";
import { IDLE_SECONDS, SESSION_SECONDS } from "../src/ui/session-policy";
import { getPage, ORIGIN, postForm, signIn } from "./dashboard-support";
import { runCron } from "./fault-support";
import { ADMIN_TOKEN, sendWithEnv } from "./support";

const ROTATED = "rotated-admin-token";

/** The row key of the session a `session=…` Cookie header value names. */
function keyOf(cookie: string): Promise<string> {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1));
  return sessionKey(value.slice(0, value.lastIndexOf(".")));
}

async function rowOf(cookie: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare("select * from sessions where id = ?")
    .bind(await keyOf(cookie))
    .first();
}

async function setTimes(cookie: string, times: { last_seen_at?: string; expires_at?: string }): Promise<void> {
  for (const [column, value] of Object.entries(times)) {
    // The column names are this file's literals.
    await env.DB.prepare(`update sessions set ${column} = ? where id = ?`)
      .bind(value, await keyOf(cookie))
      .run();
  }
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** A cookie value signed the way hono/cookie signs (HMAC-SHA256, base64), with the key the Worker derives from ADMIN_TOKEN. */
async function signedCookie(name: string, value: string, token = ADMIN_TOKEN): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`dashboard-session-v1:${token}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(value));
  const base64 = btoa(String.fromCharCode(...new Uint8Array(signature)));
  return `${name}=${encodeURIComponent(`${value}.${base64}`)}`;
}

const pageAs = (cookie: string, token: string) =>
  sendWithEnv(new Request(`${ORIGIN}/`, { headers: { Cookie: cookie }, redirect: "manual" }), { ADMIN_TOKEN: token });

describe("signing out ends the session on the server", () => {
  it("a cookie replayed after sign-out opens no page", async () => {
    const session = await signIn();
    expect((await getPage("/events", session)).status).toBe(200);
    expect((await postForm("/logout", {}, session)).status).toBe(303);
    for (const path of ["/", "/events", "/runs", "/workflows"]) {
      const res = await getPage(path, session);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("signing out one browser leaves another signed in", async () => {
    const [mine, theirs] = [await signIn(), await signIn()];
    await postForm("/logout", {}, mine);
    expect((await getPage("/", mine)).status).toBe(303);
    expect((await getPage("/", theirs)).status).toBe(200);
  });

  it("refuses a correctly signed cookie that names no session, such as an expiry years ahead", async () => {
    const years = String(Math.floor(Date.now() / 1000) + 10 * 365 * 86_400);
    expect((await getPage("/", await signedCookie("session", years))).status).toBe(303);
  });
});

describe("sign out everywhere", () => {
  it("is a button on every page, posting to /logout/everywhere", async () => {
    const text = await (await getPage("/", await signIn())).text();
    expect(text).toMatch(
      /<form method="post" action="\/logout\/everywhere"[^>]*><button type="submit">Sign out everywhere<\/button>/,
    );
  });

  it("ends every browser's session, its own included", async () => {
    const [mine, theirs] = [await signIn(), await signIn()];
    const res = await postForm("/logout/everywhere", {}, mine);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
    expect(res.headers.get("set-cookie")).toMatch(/^session=; Max-Age=0/);
    expect((await getPage("/", mine)).status).toBe(303);
    expect((await getPage("/", theirs)).status).toBe(303);
    // A new sign-in works again.
    expect((await getPage("/", await signIn())).status).toBe(200);
  });

  it("needs a signed-in viewer and a same-origin post", async () => {
    const session = await signIn();
    expect((await postForm("/logout/everywhere", {}, null)).status).toBe(401);
    expect((await postForm("/logout/everywhere", {}, session, "http://evil.example")).status).toBe(403);
    expect((await getPage("/", session)).status).toBe(200);
  });
});

describe("rotating ADMIN_TOKEN", () => {
  it("ends the sessions made under the old token at once; the cron deletes them, so the old token brings none back", async () => {
    const session = await signIn();
    expect((await pageAs(session, ADMIN_TOKEN)).status).toBe(200);
    expect((await pageAs(session, ROTATED)).status).toBe(303);
    await runCron(Date.now(), { ADMIN_TOKEN: ROTATED });
    expect(await rowOf(session)).toBeNull();
    expect((await pageAs(session, ADMIN_TOKEN)).status).toBe(303);
  });

  it("a row whose token hash is not the current token's opens nothing, even with a good signature", async () => {
    const session = await signIn();
    await env.DB.prepare("update sessions set token_hash = ? where id = ?")
      .bind(await tokenHash(ROTATED), await keyOf(session))
      .run();
    expect((await getPage("/", session)).status).toBe(303);
    expect(await rowOf(session)).toBeNull();
  });
});

describe("lifetimes", () => {
  it("keeps the session in D1 under the hash of its id, never the cookie's id itself", async () => {
    const session = await signIn();
    const row = await rowOf(session);
    expect(row).toMatchObject({ idle_seconds: IDLE_SECONDS, token_hash: await tokenHash(ADMIN_TOKEN) });
    expect(Date.parse(String(row?.expires_at)) - Date.parse(String(row?.created_at))).toBe(SESSION_SECONDS * 1000);
    expect(session).not.toContain(String(row?.id));
  });

  it("ends a session idle for 30 minutes", async () => {
    const session = await signIn();
    await setTimes(session, { last_seen_at: minutesAgo(IDLE_SECONDS / 60 + 1) });
    expect((await getPage("/", session)).status).toBe(303);
    expect(await rowOf(session)).toBeNull();
  });

  it("ends a session at its absolute expiry, however active", async () => {
    const session = await signIn();
    await setTimes(session, { expires_at: minutesAgo(1), last_seen_at: minutesAgo(0) });
    expect((await getPage("/", session)).status).toBe(303);
  });

  it("records a request on a live session at most once a minute", async () => {
    const session = await signIn();
    const recent = minutesAgo(0.5);
    await setTimes(session, { last_seen_at: recent });
    expect((await getPage("/", session)).status).toBe(200);
    expect((await rowOf(session))?.last_seen_at).toBe(recent);
    const earlier = minutesAgo(5);
    await setTimes(session, { last_seen_at: earlier });
    const before = Date.now();
    expect((await getPage("/", session)).status).toBe(200);
    expect(Date.parse(String((await rowOf(session))?.last_seen_at))).toBeGreaterThanOrEqual(before);
  });

  it("the cron deletes expired and idle sessions and keeps live ones", async () => {
    const [expired, idle, live] = [await signIn(), await signIn(), await signIn()];
    await setTimes(expired, { expires_at: minutesAgo(1) });
    await setTimes(idle, { last_seen_at: minutesAgo(IDLE_SECONDS / 60) });
    await runCron(Date.now(), {});
    expect(await rowOf(expired)).toBeNull();
    expect(await rowOf(idle)).toBeNull();
    expect(await rowOf(live)).not.toBeNull();
  });
});
