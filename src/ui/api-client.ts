/**
 * The dashboard changes state only through the admin API, called in-process: saving,
 * enabling, terminating go through exactly the validation and engine calls that
 * `/api` clients get, with no second code path to keep in step.
 */
import type { Context } from "hono";
import { api } from "../routes/api";
import type { DashboardEnv } from "./auth";

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export async function callApi(
  c: Context<DashboardEnv>,
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { Authorization: `Bearer ${c.env.ADMIN_TOKEN}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await api.request(
    path,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
    c.env,
    c.executionCtx,
  );
  const text = await response.text();
  // Called on the API sub-app directly, an AppError comes back as Hono's plain-text answer, not app.ts's JSON shape.
  const isJson = response.headers.get("content-type")?.includes("application/json") ?? false;
  return { status: response.status, body: isJson ? JSON.parse(text) : { error: { message: text } } };
}

/** The message of an API error answer (`{"error": {"code", "message"}}`), or a fallback. */
export function apiErrorMessage(answer: ApiAnswer): string {
  const body = answer.body;
  if (typeof body === "object" && body !== null && "error" in body) {
    const error = body.error;
    if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
      return error.message;
    }
  }
  return `the API answered ${answer.status}`;
}
