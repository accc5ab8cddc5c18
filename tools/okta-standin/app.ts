/**
 * The stand-in's HTTP surface: the parts of Okta's Management API that the tools use
 * (`/api/v1/eventHooks` and its lifecycle operations, `/api/v1/logs`), with Okta's SSWS
 * auth, error bodies, rate-limit headers, 429s and `Link` pagination. Plus one
 * stand-in-only route, `POST /standin/logs`, which adds events to the System Log and
 * delivers them to the active, verified hooks that subscribe to them, as Okta would.
 */
import { randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { OKTA_ERRORS, type OktaErrorBody } from "./errors";
import { EventHookInput, hookView, newHookId, type StoredHook, verifyHook } from "./event-hooks";
import { RateLimiter } from "./rate-limit";
import { queryLogs } from "./system-log";

export interface StandinOptions {
  /** The org's public URL, used in links (the server's own address). */
  orgUrl: string;
  apiToken: string;
  /** Requests per window on /api/v1/logs (Okta's default for an org is in the tens per minute). */
  logsLimit?: number;
  hooksLimit?: number;
  windowMs?: number;
  now?: () => Date;
}

export interface StandinOrg {
  hooks: Map<string, StoredHook>;
  logs: Record<string, unknown>[];
  /** Every request the stand-in answered, for tests and the console: method, path and status. */
  requests: { method: string; path: string; status: number }[];
  /** Statuses (5xx) the next `/api/v1/logs` requests answer with, one each, before any real answer: an Okta outage. */
  logFailures: number[];
}

type Failure = { status: number; body: OktaErrorBody };

export function createStandinApp(options: StandinOptions): { app: Hono; org: StandinOrg } {
  const now = options.now ?? (() => new Date());
  const org: StandinOrg = { hooks: new Map(), logs: [], requests: [], logFailures: [] };
  const limiters = {
    logs: new RateLimiter(options.logsLimit ?? 60, options.windowMs ?? 60_000),
    hooks: new RateLimiter(options.hooksLimit ?? 100, options.windowMs ?? 60_000),
  };
  const app = new Hono();
  const fail = (c: Context, failure: Failure) => c.json(failure.body, failure.status as ContentfulStatusCode);
  const findHook = (id: string) => org.hooks.get(id);

  app.use("*", async (c, next) => {
    await next();
    org.requests.push({ method: c.req.method, path: new URL(c.req.url).pathname, status: c.res.status });
  });

  // Okta: `Authorization: SSWS {API token}` on every Management API call.
  app.use("/api/*", async (c, next) => {
    if (c.req.header("authorization") !== `SSWS ${options.apiToken}`) return fail(c, OKTA_ERRORS.invalidToken());
    const failure = c.req.path.startsWith("/api/v1/logs") ? org.logFailures.shift() : undefined;
    if (failure !== undefined) return fail(c, OKTA_ERRORS.internal(failure));
    const bucket = c.req.path.startsWith("/api/v1/logs") ? limiters.logs : limiters.hooks;
    const state = bucket.take(now().getTime());
    if (!state.allowed) {
      const res = fail(c, OKTA_ERRORS.rateLimited());
      for (const [name, value] of Object.entries(state.headers)) res.headers.set(name, value);
      return res;
    }
    await next();
    for (const [name, value] of Object.entries(state.headers)) c.res.headers.set(name, value);
  });

  async function readHookInput(c: Context): Promise<EventHookInput | Failure> {
    const body: unknown = await c.req.json().catch(() => undefined);
    if (body === undefined) return OKTA_ERRORS.badRequest("the body is not JSON");
    const parsed = EventHookInput.safeParse(body);
    if (parsed.success) return parsed.data;
    return OKTA_ERRORS.validation(
      "eventHook",
      parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
    );
  }

  app.get("/api/v1/eventHooks", (c) => c.json([...org.hooks.values()].map((hook) => hookView(hook, options.orgUrl))));

  app.post("/api/v1/eventHooks", async (c) => {
    const input = await readHookInput(c);
    if ("status" in input) return fail(c, input);
    if (!input.channel.config.authScheme?.value && input.channel.config.authScheme) {
      return fail(c, OKTA_ERRORS.validation("eventHook", ["channel.config.authScheme.value: required"]));
    }
    const at = now().toISOString();
    const auth = input.channel.config.authScheme;
    // Okta creates a hook ACTIVE and UNVERIFIED; it receives nothing until verified.
    const hook: StoredHook = {
      id: newHookId(),
      status: "ACTIVE",
      verificationStatus: "UNVERIFIED",
      name: input.name,
      description: input.description ?? null,
      created: at,
      createdBy: "00ustandinadmin0000",
      lastUpdated: at,
      events: { type: "EVENT_TYPE", items: input.events.items, filter: input.events.filter ?? null },
      uri: input.channel.config.uri,
      headers: input.channel.config.headers ?? [],
      auth: auth?.value ? { key: auth.key, value: auth.value } : null,
    };
    org.hooks.set(hook.id, hook);
    return c.json(hookView(hook, options.orgUrl));
  });

  app.get("/api/v1/eventHooks/:id", (c) => {
    const hook = findHook(c.req.param("id"));
    return hook
      ? c.json(hookView(hook, options.orgUrl))
      : fail(c, OKTA_ERRORS.notFound(c.req.param("id"), "EventHook"));
  });

  app.put("/api/v1/eventHooks/:id", async (c) => {
    const hook = findHook(c.req.param("id"));
    if (!hook) return fail(c, OKTA_ERRORS.notFound(c.req.param("id"), "EventHook"));
    const input = await readHookInput(c);
    if ("status" in input) return fail(c, input);
    const auth = input.channel.config.authScheme;
    const changedEndpoint =
      hook.uri !== input.channel.config.uri || (auth?.value !== undefined && auth.value !== hook.auth?.value);
    Object.assign(hook, {
      name: input.name,
      description: input.description ?? null,
      lastUpdated: now().toISOString(),
      events: { type: "EVENT_TYPE", items: input.events.items, filter: input.events.filter ?? null },
      uri: input.channel.config.uri,
      headers: input.channel.config.headers ?? [],
      auth: auth ? { key: auth.key, value: auth.value ?? hook.auth?.value ?? "" } : null,
      // A new URI or secret has not been shown to work: Okta asks for verification again.
      verificationStatus: changedEndpoint ? "UNVERIFIED" : hook.verificationStatus,
    } satisfies Partial<StoredHook>);
    return c.json(hookView(hook, options.orgUrl));
  });

  app.post("/api/v1/eventHooks/:id/lifecycle/:operation", async (c) => {
    const hook = findHook(c.req.param("id"));
    if (!hook) return fail(c, OKTA_ERRORS.notFound(c.req.param("id"), "EventHook"));
    const operation = c.req.param("operation");
    if (operation === "activate" || operation === "deactivate") {
      hook.status = operation === "activate" ? "ACTIVE" : "INACTIVE";
      hook.lastUpdated = now().toISOString();
      return c.json(hookView(hook, options.orgUrl));
    }
    if (operation !== "verify") return fail(c, OKTA_ERRORS.notFound(operation, "Lifecycle operation"));
    const failure = await verifyHook(hook);
    if (failure !== null) {
      return fail(
        c,
        OKTA_ERRORS.validation("eventHook", [
          `Unable to verify event hook. Hook ${hook.name} execution failed: ${failure}`,
        ]),
      );
    }
    hook.verificationStatus = "VERIFIED";
    return c.json(hookView(hook, options.orgUrl));
  });

  app.get("/api/v1/logs", (c) => {
    const page = queryLogs(org.logs, c.req.query(), now());
    if (!page.ok) {
      return fail(
        c,
        page.kind === "search" ? OKTA_ERRORS.invalidSearch(page.cause) : OKTA_ERRORS.badRequest(page.cause),
      );
    }
    const self = new URL(c.req.url);
    const selfLink = `${options.orgUrl}${self.pathname}${self.search}`;
    const links = [`<${selfLink}>; rel="self"`];
    if (page.after) {
      const next = new URL(selfLink);
      next.searchParams.set("after", page.after);
      links.push(`<${next.href}>; rel="next"`);
    }
    c.header("Link", links.join(", "));
    return c.json(page.events);
  });

  app.post("/standin/logs", async (c) => {
    const parsed = z.array(z.record(z.string(), z.unknown())).safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return fail(c, OKTA_ERRORS.badRequest("expected an array of LogEvents"));
    org.logs.push(...parsed.data);
    const deliveries = await deliver(org, parsed.data, options.orgUrl);
    return c.json({ added: parsed.data.length, deliveries });
  });

  app.notFound((c) => fail(c, OKTA_ERRORS.notFound(c.req.path, "Resource")));
  return { app, org };
}

/** Okta's delivery: one envelope per hook to every ACTIVE and VERIFIED hook subscribed to the events. */
async function deliver(org: StandinOrg, events: Record<string, unknown>[], orgUrl: string) {
  const results: { hookId: string; status: number }[] = [];
  for (const hook of org.hooks.values()) {
    if (hook.status !== "ACTIVE" || hook.verificationStatus !== "VERIFIED") continue;
    const subscribed = events.filter((event) => hook.events.items.includes(String(event.eventType)));
    if (subscribed.length === 0) continue;
    const headers: Record<string, string> = {
      Accept: "application/json",
      "Content-Type": "application/json",
      "User-Agent": `Okta Hook Service v1.0.0 - ${hook.id}`,
    };
    for (const header of hook.headers) headers[header.key] = header.value;
    if (hook.auth) headers[hook.auth.key] = hook.auth.value;
    const body = {
      eventType: "com.okta.event_hook",
      eventTypeVersion: "1.0",
      cloudEventsVersion: "0.1",
      source: `${orgUrl}/api/v1/eventHooks/${hook.id}`,
      eventId: randomUUID(),
      data: { events: subscribed },
      eventTime: new Date().toISOString(),
      contentType: "application/json",
    };
    const status = await fetch(hook.uri, { method: "POST", headers, body: JSON.stringify(body) }).then(
      (res) => res.status,
      () => 0,
    );
    results.push({ hookId: hook.id, status });
  }
  return results;
}
