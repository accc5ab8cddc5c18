/**
 * Who may see the dashboard. Each authenticator looks at the request and names the
 * viewer or passes; the first that names one wins. Cloudflare Access goes first (when
 * configured): the `Cf-Access-Jwt-Assertion` header, verified against the team's keys
 * and audience (access.ts), so that an Access user needs no second login. Then the
 * session cookie from signing in with the admin token (session.ts).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ACCESS_HEADER, accessIdentity } from "../access";
import { hasSession } from "./session";

/** Who is looking, and how they got in. */
export type Viewer = { via: "access"; name: string } | { via: "session" };

export type DashboardEnv = { Bindings: Env; Variables: { viewer: Viewer } };

type Authenticator = (c: Context<DashboardEnv>, now: Date) => Promise<Viewer | null>;

const sessionCookie: Authenticator = async (c, now) => ((await hasSession(c, now)) ? { via: "session" } : null);

const cloudflareAccess: Authenticator = async (c) => {
  const identity = await accessIdentity(c.req.header(ACCESS_HEADER), c.env);
  return identity ? { via: "access", name: identity.name } : null;
};

const authenticators: Authenticator[] = [cloudflareAccess, sessionCookie];

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
