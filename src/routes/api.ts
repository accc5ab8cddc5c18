/** `/api`: the admin API (bearer ADMIN_TOKEN) and its OpenAPI document, generated from the route schemas. */
import { adminAuth } from "./admin-auth";
import { backfillApi } from "./backfill";
import { deadLettersApi } from "./dead-letters";
import { eventRunsApi } from "./event-runs";
import { eventTypesApi } from "./event-types";
import { eventsApi } from "./events";
import { createApiApp } from "./openapi-common";
import { overviewApi } from "./overview";
import { replayApi } from "./replay";
import { runsApi } from "./runs";
import { statusApi } from "./status";
import { waitRoomsApi } from "./wait-rooms";
import { workflowsApi } from "./workflows";

export const api = createApiApp();

// Admin data (and the refusals) must not sit in a shared cache or the back button; registered first, so it
// also marks the document and every error.
api.use("*", async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

api.openAPIRegistry.registerComponent("securitySchemes", "Bearer", { type: "http", scheme: "bearer" });
api.doc31("/openapi.json", {
  openapi: "3.1.0",
  // The routes are mounted under /api (app.ts); the paths below are relative to it.
  servers: [{ url: "/api" }],
  info: {
    title: "okta-event-workflows",
    version: "1.0.0",
    description: "Admin API: events, event types, workflows, runs and replays.",
  },
});

// Only the document itself is public: a suffix match would also open `/api/events/openapi.json`.
api.use("*", async (c, next) => (c.req.path === "/api/openapi.json" ? next() : adminAuth(c, next)));
api.route("/", eventsApi);
api.route("/", eventRunsApi);
api.route("/", eventTypesApi);
api.route("/", workflowsApi);
api.route("/", runsApi);
api.route("/", waitRoomsApi);
api.route("/", overviewApi);
api.route("/", replayApi);
api.route("/", backfillApi);
api.route("/", statusApi);
api.route("/", deadLettersApi);
