/**
 * `GET /healthz`: for uptime checks, unauthenticated, so it says nothing but whether
 * the Worker can reach D1. The figures behind it are at `/api/status`, behind auth.
 */
import { Hono } from "hono";
import { AppError } from "../errors";
import { errorText, logError } from "../log";

export const health = new Hono<{ Bindings: Env }>();

health.get("/healthz", async (c) => {
  try {
    await c.env.DB.prepare("select 1").first();
  } catch (err) {
    logError("health check: D1 unreachable", { error: errorText(err) });
    throw new AppError(503, "unavailable", "D1 is unreachable");
  }
  c.header("Cache-Control", "no-store");
  return c.json({ status: "ok" });
});
