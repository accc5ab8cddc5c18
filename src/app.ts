/** The HTTP surface: Okta's hook, the admin API and the dashboard, with one error shape. */
import { Hono } from "hono";
import { AppError, errorResponse } from "./errors";
import { api } from "./routes/api";
import { health } from "./routes/health";
import { hooks } from "./routes/hooks";
import { dashboard } from "./ui/dashboard";
import { LOOP_HEADER } from "./workflows/actions/outbound-policy";

export const app = new Hono<{ Bindings: Env }>();

// A workflow's own requests carry this header: refusing them here means no workflow can drive this service in a loop.
app.use("*", async (c, next) => {
  if (c.req.header(LOOP_HEADER) !== undefined) {
    throw new AppError(508, "loop_detected", "a workflow may not call this service itself");
  }
  await next();
});

app.route("/", health);
app.route("/hooks", hooks);
app.route("/api", api);
// Last: the dashboard owns the remaining paths, from `/` down.
app.route("/", dashboard);

app.notFound(() => {
  throw new AppError(404, "not_found", "no such route");
});
app.onError(errorResponse);
