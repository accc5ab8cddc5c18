/**
 * Who may see the dashboard. Each authenticator looks at the request and names the
 * viewer or passes; the first that names one wins. Locally that is the session cookie
 * (session.ts). In production, Cloudflare Access goes first in this list: an
 * authenticator that verifies the `Cf-Access-Jwt-Assertion` header against the team's
 * keys and audience, so that an Access user needs no second login.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { hasSession } from "./session";

export interface Viewer {
  /** How the viewer signed in, shown in the header. */
  via: "session";
}

export type DashboardEnv = { Bindings: Env; Variables: { viewer: Viewer } };

type Authenticator = (c: Context<DashboardEnv>, now: Date) => Promise<Viewer | null>;

const sessionCookie: Authenticator = async (c, now) => ((await hasSession(c, now)) ? { via: "session" } : null);

const authenticators: Authenticator[] = [sessionCookie];

/** Lets a signed-in viewer through; sends anyone else to the sign-in page (a 401 for non-GET requests). */
export const requireViewer = createMiddleware<DashboardEnv>(async (c, next) => {
  const now = new Date();
  for (const authenticate of authenticators) {
    const viewer = await authenticate(c, now);
    if (viewer) {
      c.set("viewer", viewer);
      await next();
      // Pages show data nobody else should get from a shared cache or the back button after sign-out.
      c.header("Cache-Control", "no-store");
      return;
    }
  }
  if (c.req.method !== "GET") return c.text("Sign in first.", 401);
  const url = new URL(c.req.url);
  return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
});
