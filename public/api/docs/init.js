// Renders the admin API's OpenAPI document with Swagger UI, served from this Worker's
// static assets (no CDN). "Try it out" sends requests to this same origin.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#api-reference",
  deepLinking: true,
  // Swagger UI would otherwise send the document to swagger.io's online validator.
  validatorUrl: null,
  // The admin token stays in this tab's memory only, never in localStorage.
  persistAuthorization: false,
  defaultModelsExpandDepth: 0,
});
