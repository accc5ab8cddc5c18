/** The HTTP surface: Okta's hook, the admin API and (later) the dashboard, with one error shape. */
import { Hono } from "hono";
import { AppError, errorResponse } from "./errors";
import { api } from "./routes/api";
import { hooks } from "./routes/hooks";

export const app = new Hono<{ Bindings: Env }>();

app.route("/hooks", hooks);
app.route("/api", api);

app.notFound(() => {
  throw new AppError(404, "not_found", "no such route");
});
app.onError(errorResponse);
