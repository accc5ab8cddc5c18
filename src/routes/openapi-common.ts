/** Pieces every `/api` route shares: the error schema, the security requirement, the app factory. */
import { OpenAPIHono, z } from "@hono/zod-openapi";
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
