/**
 * Failed credentials are limited per client address (CF-Connecting-IP): the admin
 * token on POST /login and /api/* (one budget), the hook secret on /hooks/okta (its
 * own). Through the Worker's fetch, with the real local Durable Object behind it.
 * Every test uses its own address, so none spends another's budget.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { clientKey } from "../src/limits/client-key";
import { FAILURE_WINDOW_MS } from "../src/limits/failure-window";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../tools/local-okta/builders";
import { ORIGIN } from "./dashboard-support";
import { ADMIN_TOKEN, HOOK_SECRET, HOOK_URL, send } from "./support";

let lastOctet = 0;
/** A fresh documentation address (TEST-NET-3) per call. */
const newAddress = () => `203.0.113.${++lastOctet}`;

function apiGet(ip: string | null, token: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (ip) headers["CF-Connecting-IP"] = ip;
  if (token) headers.Authorization = `Bearer ${token}`;
  return send(new Request(`${ORIGIN}/api/events`, { headers }));
}

function login(ip: string, token: string): Promise<Response> {
  return send(
    new Request(`${ORIGIN}/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN, "CF-Connecting-IP": ip },
      body: new URLSearchParams({ token, next: "/" }).toString(),
      redirect: "manual",
    }),
  );
}

function deliver(ip: string, secret: string): Promise<Response> {
  const delivery = oktaDelivery([oktaEvent({ eventType: "system.api_token.create", assetId: "00TRATE" })]);
  return send(
    new Request(HOOK_URL, {
      method: "POST",
      headers: { ...oktaHeaders(secret), "CF-Connecting-IP": ip },
      body: JSON.stringify(delivery),
    }),
  );
}

async function statuses(count: number, request: () => Promise<Response>): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await request()).status);
  return seen;
}

/** The limit the docs promise: 10 failures per address per 10 minutes. */
const LIMIT = 10;
const refusedThenLimited = (total: number) => [
  ...Array<number>(LIMIT).fill(401),
  ...Array<number>(total - LIMIT).fill(429),
];

async function expectLimited(res: Response): Promise<void> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
}

describe("wrong admin tokens on /api", () => {
  it("40 in a row: the first 10 are 401, the rest 429 with Retry-After and the error shape", async () => {
    const ip = newAddress();
    expect(await statuses(40, () => apiGet(ip, "wrong-token"))).toEqual(refusedThenLimited(40));
    const res = await apiGet(ip, "wrong-token");
    await expectLimited(res);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      error: { code: "rate_limited", message: expect.stringMatching(/too many failed attempts.*try again in \d+ s/i) },
    });
  });

  it("a blocked address is refused even with the right token; another address is not", async () => {
    const ip = newAddress();
    await statuses(LIMIT, () => apiGet(ip, "wrong-token"));
    await expectLimited(await apiGet(ip, ADMIN_TOKEN));
    expect((await apiGet(newAddress(), ADMIN_TOKEN)).status).toBe(200);
  });

  it("counts only failures: any number of good requests spends nothing, a missing token is not a guess", async () => {
    const ip = newAddress();
    expect(new Set(await statuses(30, () => apiGet(ip, ADMIN_TOKEN)))).toEqual(new Set([200]));
    expect(new Set(await statuses(15, () => apiGet(ip, null)))).toEqual(new Set([401]));
    expect(await statuses(LIMIT + 1, () => apiGet(ip, "wrong-token"))).toEqual(refusedThenLimited(LIMIT + 1));
  });

  it("is in the API's OpenAPI document, with Retry-After", async () => {
    const doc = await (await send(new Request(`${ORIGIN}/api/openapi.json`))).json();
    expect(doc).toMatchObject({
      paths: { "/events": { get: { responses: { 429: { headers: { "Retry-After": expect.anything() } } } } } },
    });
  });

  it("without CF-Connecting-IP (local) every caller shares one budget", async () => {
    expect(await statuses(LIMIT + 1, () => apiGet(null, "wrong-token"))).toEqual(refusedThenLimited(LIMIT + 1));
    await expectLimited(await apiGet(null, ADMIN_TOKEN));
  });
});

describe("wrong admin tokens on the sign-in page", () => {
  it("the 11th wrong sign-in gets a 429 page with Retry-After, and so does the right token", async () => {
    const ip = newAddress();
    expect(await statuses(LIMIT, () => login(ip, "wrong-token"))).toEqual(Array(LIMIT).fill(401));
    const limited = await login(ip, "wrong-token");
    await expectLimited(limited);
    expect(await limited.text()).toMatch(/Too many failed sign-ins from your address\. Try again in \d+ minutes?\./);
    const right = await login(ip, ADMIN_TOKEN);
    await expectLimited(right);
    expect(right.headers.get("set-cookie")).toBeNull();
  });

  it("shares its budget with /api: both guess the same token", async () => {
    const ip = newAddress();
    await statuses(LIMIT / 2, () => login(ip, "wrong-token"));
    await statuses(LIMIT / 2, () => apiGet(ip, "wrong-token"));
    await expectLimited(await apiGet(ip, "wrong-token"));
    await expectLimited(await login(ip, "wrong-token"));
  });
});

describe("wrong hook secrets", () => {
  it("40 in a row: the first 10 are 401, the rest 429 in the error shape", async () => {
    const ip = newAddress();
    expect(await statuses(40, () => deliver(ip, "wrong-secret"))).toEqual(refusedThenLimited(40));
    const res = await deliver(ip, "wrong-secret");
    await expectLimited(res);
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
  });

  it("never limits a good delivery: not its retries, not from an address that sent wrong secrets", async () => {
    const ip = newAddress();
    expect(new Set(await statuses(30, () => deliver(ip, HOOK_SECRET)))).toEqual(new Set([200]));
    await statuses(LIMIT + 5, () => deliver(ip, "wrong-secret"));
    await expectLimited(await deliver(ip, "wrong-secret"));
    expect(new Set(await statuses(10, () => deliver(ip, HOOK_SECRET)))).toEqual(new Set([200]));
  });

  it("is a budget of its own: a blocked hook address may still use the admin token", async () => {
    const ip = newAddress();
    await statuses(LIMIT + 1, () => deliver(ip, "wrong-secret"));
    expect((await apiGet(ip, ADMIN_TOKEN)).status).toBe(200);
  });
});

describe("the limit clears when its window ends", () => {
  const limiterOf = (scope: string, ip: string) =>
    env.FAILURE_LIMITERS.get(env.FAILURE_LIMITERS.idFromName(`${scope}:${clientKey(ip)}`));

  /** Moves the address's window back, as if `ms` had passed since its first failure. */
  const age = (scope: string, ip: string, ms: number) =>
    runInDurableObject(limiterOf(scope, ip), (_instance, state) => {
      state.storage.sql.exec("UPDATE failure_window SET started_at = started_at - ?", ms);
    });

  it("Retry-After counts down to the end of the window that began with the first failure", async () => {
    const ip = newAddress();
    await statuses(LIMIT, () => apiGet(ip, "wrong-token"));
    await age("admin", ip, 4 * 60_000);
    const res = await apiGet(ip, ADMIN_TOKEN);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(5 * 60);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(6 * 60);
  });

  it("after 10 minutes the right token works again, and wrong ones start a new window", async () => {
    const ip = newAddress();
    await statuses(LIMIT, () => apiGet(ip, "wrong-token"));
    await expectLimited(await apiGet(ip, ADMIN_TOKEN));
    await age("admin", ip, FAILURE_WINDOW_MS);
    expect((await apiGet(ip, ADMIN_TOKEN)).status).toBe(200);
    expect(await statuses(LIMIT + 1, () => apiGet(ip, "wrong-token"))).toEqual(refusedThenLimited(LIMIT + 1));
  });

  it("the window's alarm deletes it, so an address that stops failing leaves nothing stored", async () => {
    const ip = newAddress();
    await statuses(3, () => deliver(ip, "wrong-secret"));
    await age("hook", ip, FAILURE_WINDOW_MS);
    expect(await runDurableObjectAlarm(limiterOf("hook", ip))).toBe(true);
    const rows = await runInDurableObject(limiterOf("hook", ip), (_instance, state) =>
      state.storage.sql.exec("SELECT count(*) AS n FROM failure_window").one(),
    );
    expect(rows.n).toBe(0);
  });

  it("an alarm that fires early (the window was moved on) keeps the window", async () => {
    const ip = newAddress();
    await statuses(LIMIT, () => deliver(ip, "wrong-secret"));
    expect(await runDurableObjectAlarm(limiterOf("hook", ip))).toBe(true);
    await expectLimited(await deliver(ip, "wrong-secret"));
  });
});
