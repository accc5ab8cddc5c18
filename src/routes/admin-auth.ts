/**
 * The guard for `/api/*`: a request passes with a valid Cloudflare Access JWT (when
 * Access is configured) or with the ADMIN_TOKEN secret as a bearer token (automation).
 * Neither: 401, the same answer whatever was wrong. A wrong bearer token counts
 * against the client address's "admin" budget (shared with the sign-in page); an
 * address over it gets 429 for every bearer token, the right one included, until
 * its window ends (docs/security.md, "Rate limits").
 */
import { createMiddleware } from "hono/factory";
import { ACCESS_HEADER, accessConfig, accessIdentity } from "../access";
import { AppError } from "../errors";
import { CLIENT_IP_HEADER, failureLimit, recordFailure, tooManyFailures } from "../limits/failures";
import { secretMatches } from "../okta/secret";

export const adminAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? null;
  const ip = c.req.header(CLIENT_IP_HEADER);
  if (token !== null && (await secretMatches(token, c.env.ADMIN_TOKEN))) {
    const limit = await failureLimit(c.env, "admin", ip);
    if (limit.blocked) throw tooManyFailures(limit);
    return next();
  }
  if ((await accessIdentity(c.req.header(ACCESS_HEADER), c.env)) !== null) return next();
  // Only a token that was sent is a guess; a request with none (a browser, a probe) costs nothing.
  if (token !== null) {
    const limit = await recordFailure(c.env, "admin", ip);
    if (limit.blocked) throw tooManyFailures(limit);
  }
  const wanted = accessConfig(c.env) ? "a valid Cloudflare Access token or bearer token" : "a valid bearer token";
  throw new AppError(401, "unauthorized", `${wanted} is required`);
});
