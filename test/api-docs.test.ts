/** The API reference page at /api/docs/: static assets, no CDN, rendering the public /api/openapi.json. */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const BASE = "http://worker.test";

/**
 * A GET as a deployment routes it: the static assets answer first, and only a path with
 * no asset reaches the Worker (wrangler.toml [assets], no run_worker_first).
 */
async function get(path: string): Promise<Response> {
  const asset = await env.TEST_ASSETS.fetch(`${BASE}${path}`, { redirect: "manual" });
  return asset.status === 404 ? exports.default.fetch(`${BASE}${path}`) : asset;
}

describe("GET /api/docs/", () => {
  it("serves the page without a token, loading only files of this origin", async () => {
    const res = await get("/api/docs/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const links = [...(await res.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(links).toEqual([
      "vendor/favicon-32x32.png",
      "vendor/swagger-ui.css",
      "page.css",
      "/api/openapi.json",
      "vendor/swagger-ui-bundle.js",
      "init.js",
    ]);
  });

  it("allows only this origin by Content-Security-Policy", async () => {
    const csp = (await get("/api/docs/")).headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
  });

  it("redirects /api/docs to the page", async () => {
    const res = await get("/api/docs");
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("/api/docs/");
  });

  it.each(["vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css", "page.css"])("serves %s", async (file) => {
    const res = await get(`/api/docs/${file}`);
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBeGreaterThan(100);
  });

  it("points Swagger UI at the OpenAPI document, which is public", async () => {
    const init = await (await get("/api/docs/init.js")).text();
    expect(init).toContain('url: "/api/openapi.json"');
    expect(init).toContain("validatorUrl: null");
    const doc = await get("/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(await doc.json()).toMatchObject({ openapi: "3.1.0", components: { securitySchemes: { Bearer: {} } } });
  });

  it("leaves every other /api path behind the admin token", async () => {
    expect((await get("/api/events")).status).toBe(401);
    expect((await get("/api/docs/no-such-file.js")).status).toBe(401);
  });
});
