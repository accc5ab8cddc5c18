/** Helpers for the dashboard's route tests: a signed-in session, pages, and same-origin form posts. */
import { expect } from "vitest";
import { ADMIN_TOKEN, send } from "./support";

export const ORIGIN = "http://worker.test";

/** Signs in with the admin token and returns the Cookie header value of the session. */
export async function signIn(): Promise<string> {
  const res = await postForm("/login", { token: ADMIN_TOKEN, next: "/" }, null);
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie") ?? "";
  const pair = cookie.split(";")[0] ?? "";
  expect(pair).toMatch(/^session=/);
  return pair;
}

export function getPage(path: string, cookie: string | null): Promise<Response> {
  return send(new Request(`${ORIGIN}${path}`, { headers: cookie ? { Cookie: cookie } : {}, redirect: "manual" }));
}

/** Posts an urlencoded form as a browser on `origin` would (Origin header and all). */
export function postForm(
  path: string,
  fields: Record<string, string>,
  cookie: string | null,
  origin: string | null = ORIGIN,
): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (cookie) headers.Cookie = cookie;
  if (origin) headers.Origin = origin;
  return send(
    new Request(`${ORIGIN}${path}`, {
      method: "POST",
      headers,
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    }),
  );
}

/** The page's HTML, failing the test unless it answered `status`. */
export async function html(res: Response | Promise<Response>, status = 200): Promise<string> {
  const response = await res;
  const text = await response.text();
  expect(response.status, text.slice(0, 500)).toBe(status);
  return text;
}
