/** The HTTP surface: Okta's hook, the admin API and the dashboard, with one error shape. */
import { Hono } from "hono";
import { AppError, errorResponse } from "./errors";
import { api } from "./routes/api";
import { hooks } from "./routes/hooks";
import { dashboard } from "./ui/dashboard";

export const app = new Hono<{ Bindings: Env }>();

app.route("/hooks", hooks);
app.route("/api", api);
// Last: the dashboard owns the remaining paths, from `/` down.
app.route("/", dashboard);

app.notFound(() => {
  throw new AppError(404, "not_found", "no such route");
});
app.onError(errorResponse);
