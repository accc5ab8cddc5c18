/** Dashboard sign-in, session cookie, CSRF and the boundary with /api, through the Worker's fetch. */
import { describe, expect, it } from "vitest";
import { getPage, html, ORIGIN, postForm, signIn } from "./dashboard-support";
import { ADMIN_TOKEN, send } from "./support";
import { createWorkflow } from "./workflow-support";

const PAGES = ["/", "/events", "/runs", "/workflows", "/workflows/new", "/catalogue", "/assets", "/assets/00Tx"];

describe("dashboard sign-in", () => {
  it("sends a signed-out browser from every page to the sign-in page, keeping where it was going", async () => {
    for (const path of PAGES) {
      const res = await getPage(path, null);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("refuses a wrong token with 401 and sets no cookie", async () => {
    const res = await postForm("/login", { token: "wrong", next: "/" }, null);
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That token is not the admin token.");
  });

  it("exchanges the admin token for an HttpOnly, SameSite=Strict session cookie that opens the pages", async () => {
    const res = await postForm("/login", { token: ADMIN_TOKEN, next: "/events?id=x" }, null);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/events?id=x");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain("Secure");
    const session = cookie.split(";")[0] ?? "";
    for (const path of PAGES) expect((await getPage(path, session)).status, path).toBe(200);
  });

  it("marks the cookie Secure (and __Host-) over https", async () => {
    const res = await send(
      new Request("https://dash.example.com/login", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://dash.example.com" },
        body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
        redirect: "manual",
      }),
    );
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-session=.*; Secure/);
  });

  it("never redirects off the site after sign-in", async () => {
    for (const next of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example/x"]) {
      const res = await postForm("/login", { token: ADMIN_TOKEN, next }, null);
      expect(res.headers.get("location"), next).toBe("/");
    }
  });

  it("ignores a tampered or foreign cookie", async () => {
    const session = await signIn();
    const [name, value = ""] = session.split("=");
    const [expiry = "", signature = ""] = decodeURIComponent(value).split(".");
    const later = `${name}=${encodeURIComponent(`${Number(expiry) + 86_400}.${signature}`)}`;
    expect((await getPage("/", later)).status).toBe(303);
    expect((await getPage("/", "session=1999999999.bm90LWEtc2lnbmF0dXJl")).status).toBe(303);
  });

  it("signs out: the cookie is cleared", async () => {
    const session = await signIn();
    const res = await postForm("/logout", {}, session);
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^session=; Max-Age=0/);
  });
});

describe("dashboard CSRF", () => {
  it("refuses a form posted from another origin, and one with no origin at all, changing nothing", async () => {
    const session = await signIn();
    const workflow = await createWorkflow({ name: "csrf target", trigger: { eventTypes: [] }, start: null });
    for (const origin of ["http://evil.example", null]) {
      const res = await postForm(`/workflows/${workflow.id}/disable`, {}, session, origin);
      expect(res.status, String(origin)).toBe(403);
    }
    expect(await html(getPage(`/workflows/${workflow.id}`, session))).toContain(">enabled<");
    const ok = await postForm(`/workflows/${workflow.id}/disable`, {}, session);
    expect(ok.status).toBe(303);
    expect(await html(getPage(`/workflows/${workflow.id}`, session))).toContain(">disabled<");
  });

  it("refuses a cross-site sign-in post (login CSRF)", async () => {
    const res = await postForm("/login", { token: ADMIN_TOKEN }, null, "http://evil.example");
    expect(res.status).toBe(403);
  });
});

describe("the dashboard beside /api and /hooks", () => {
  it("leaves /api answers as JSON: 401 without a bearer token, 404 for an unknown path", async () => {
    const session = await signIn();
    const unauthorised = await send(new Request(`${ORIGIN}/api/events`, { headers: { Cookie: session } }));
    expect(unauthorised.status).toBe(401);
    expect(await unauthorised.json()).toEqual({
      error: { code: "unauthorized", message: "a valid Cloudflare Access token or bearer token is required" },
    });
    const unknown = await send(
      new Request(`${ORIGIN}/api/nothing-here`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it("serves pages with a strict Content-Security-Policy and no caching", async () => {
    const res = await getPage("/", await signIn());
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    // The same answer as frame-ancestors 'none', for browsers that only know the older header.
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect((await res.text()).startsWith("<!doctype html>")).toBe(true);
  });

  it("marks every /api answer no-store: data, refusals, unknown paths and the OpenAPI document", async () => {
    const bearer = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const [path, headers, status] of [
      ["/api/events", bearer, 200],
      ["/api/events", {}, 401],
      ["/api/nothing-here", bearer, 404],
      ["/api/openapi.json", {}, 200],
    ] as const) {
      const res = await send(new Request(`${ORIGIN}${path}`, { headers }));
      expect(res.status, path).toBe(status);
      expect(res.headers.get("cache-control"), `${path} ${status}`).toBe("no-store");
    }
  });
});
