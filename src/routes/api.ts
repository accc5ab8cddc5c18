/** `/api`: the admin API (bearer ADMIN_TOKEN) and its OpenAPI document, generated from the route schemas. */
import { adminAuth } from "./admin-auth";
import { eventTypesApi } from "./event-types";
import { eventsApi } from "./events";
import { createApiApp } from "./openapi-common";

export const api = createApiApp();

api.openAPIRegistry.registerComponent("securitySchemes", "Bearer", { type: "http", scheme: "bearer" });
api.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: { title: "okta-event-workflows", version: "1.0.0", description: "Admin API: events, event types." },
});

api.use("*", async (c, next) => (c.req.path.endsWith("/openapi.json") ? next() : adminAuth(c, next)));
api.route("/", eventsApi);
api.route("/", eventTypesApi);
