/** Bearer-token guard for `/api/*`: the token is the ADMIN_TOKEN Worker secret. */
import { createMiddleware } from "hono/factory";
import { AppError } from "../errors";
import { secretMatches } from "../okta/secret";

export const adminAuth = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? null;
  if (!(await secretMatches(token, c.env.ADMIN_TOKEN))) {
    throw new AppError(401, "unauthorized", "a valid bearer token is required");
  }
  await next();
});
