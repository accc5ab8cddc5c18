/**
 * The guard for `/api/*`: a request passes with a valid Cloudflare Access JWT (when
 * Access is configured) or with the ADMIN_TOKEN secret as a bearer token (automation).
 * Neither: 401, the same answer whatever was wrong.
 */
import { createMiddleware } from "hono/factory";
import { ACCESS_HEADER, accessConfig, accessIdentity } from "../access";
import { AppError } from "../errors";
import { secretMatches } from "../okta/secret";

export const adminAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? null;
  const allowed =
    (token !== null && (await secretMatches(token, c.env.ADMIN_TOKEN))) ||
    (await accessIdentity(c.req.header(ACCESS_HEADER), c.env)) !== null;
  if (!allowed) {
    const wanted = accessConfig(c.env) ? "a valid Cloudflare Access token or bearer token" : "a valid bearer token";
    throw new AppError(401, "unauthorized", `${wanted} is required`);
  }
  await next();
});
