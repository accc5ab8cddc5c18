/** Pieces every `/api` route shares: the error schema, the security requirement, the app factory. */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { AppError } from "../errors";
import { describeIssue } from "../validation";

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi("Error");

export const errorResponses = {
  400: { description: "Invalid request", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "Missing or invalid bearer token", content: { "application/json": { schema: ErrorBody } } },
  429: {
    description:
      "Too many wrong bearer tokens from this address (10 in 10 minutes); every bearer token is refused until the window ends",
    headers: { "Retry-After": { description: "Seconds until the window ends", schema: { type: "integer" } } },
    content: { "application/json": { schema: ErrorBody } },
  },
} as const;

export const notFoundResponse = {
  404: { description: "Not found", content: { "application/json": { schema: ErrorBody } } },
} as const;

export const bearerSecurity = [{ Bearer: [] }];

/** An OpenAPIHono whose validation failures become the common error shape, naming the field. */
export function createApiApp() {
  return new OpenAPIHono<{ Bindings: Env }>({
    defaultHook: (result) => {
      if (!result.success) throw new AppError(400, "bad_request", describeIssue(result.error));
    },
  });
}

/**
 * The `middleware` of a route that takes no body (terminate, enable, delete, …): none,
 * or `{}`, passes; a key is refused at its own path, as a strict body's unknown key is
 * (a `{"reason": …}` or `{"force": true}` the route would otherwise silently ignore).
 */
export const noBody = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const text = await c.req.text();
  if (text.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new AppError(400, "bad_request", "this endpoint takes no body");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new AppError(400, "bad_request", "this endpoint takes no body");
    }
    const keys = Object.keys(body);
    if (keys.length > 0) throw new AppError(400, "bad_request", keys.map((key) => `${key}: unknown key`).join("; "));
  }
  await next();
});
