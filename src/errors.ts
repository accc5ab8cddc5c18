/**
 * The one error shape of every HTTP answer that is not a success:
 * `{"error": {"code", "message"}}`. Throw an AppError anywhere in a handler;
 * `onError` in app.ts turns it (and anything unexpected) into that shape.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorText, logError } from "./log";

export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "precondition_failed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unavailable"
  | "loop_detected"
  | "rate_limited"
  | "internal";

export class AppError extends HTTPException {
  constructor(
    override readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    /** Sent with the answer, e.g. a 429's Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

/** Renders any thrown value as the error shape; unknown errors are logged and answered 500 without detail. */
export function errorResponse(err: unknown, c: Context): Response {
  if (err instanceof AppError) {
    return c.json({ error: { code: err.code, message: err.message } }, err.status, err.headers);
  }
  if (err instanceof HTTPException) {
    const code: ErrorCode =
      err.status === 401 ? "unauthorized" : err.status === 413 ? "payload_too_large" : "bad_request";
    return c.json({ error: { code, message: err.message || "request rejected" } }, err.status);
  }
  logError("unhandled error", {
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    error: errorText(err),
  });
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
}
