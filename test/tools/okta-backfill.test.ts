/**
 * `npm run okta:backfill`'s engine against the Okta stand-in (System Log pages, rate
 * limits, 429s, 5xx outages) and the real local service's store-only path (`wrangler
 * dev`): pagination, waits, retries, dedupe by uuid, and resuming from the printed cursor.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSystemEventType } from "../../src/okta/event-types";
import { oktaDelivery, oktaEvent } from "../../tools/local-okta/builders";
import { OktaApiError, OktaClient } from "../../tools/okta-api/client";
import { backfill, logsUrl, ServiceRefused } from "../../tools/okta-backfill/backfill";
import { seedEvents } from "../../tools/okta-standin/seed";
import { type RunningStandin, startStandin } from "../../tools/okta-standin/server";
import { ADMIN_TOKEN, type LocalService, ROOT, startLocalService } from "../browser/local-service";
import { storedUuids } from "./support";

let standin: RunningStandin;
let service: LocalService;
const T0 = new Date("2026-11-01T00:00:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000).toISOString();
// 250 events a minute apart; one in five is outside the System Category.
const seeded = seedEvents(250, T0, new Date(T0.getTime() + 250 * 60_000));
const inRange = (from: number, to: number) =>
  seeded.filter((event) => {
    const at = Date.parse(String(event.published));
    return (
      isSystemEventType(String(event.eventType)) && at >= Date.parse(minutes(from)) && at < Date.parse(minutes(to))
    );
  });
const ALL_TYPES = [...new Set(seeded.map((event) => String(event.eventType)).filter(isSystemEventType))];

const waits: string[] = [];
const client = () =>
  new OktaClient({ orgUrl: standin.url, apiToken: "standin-token", onWait: (_ms, why) => waits.push(why) });
const hook = () => ({ url: service.url, adminToken: ADMIN_TOKEN });

beforeAll(async () => {
  [standin, service] = await Promise.all([
    // Two System Log requests a second: a backfill of a few pages must wait for the reset.
    startStandin({ apiToken: "standin-token", logsLimit: 2, windowMs: 1000 }),
    startLocalService(),
  ]);
  standin.org.logs.push(...seeded);
});
afterAll(async () => {
  await standin?.close();
  await service?.stop();
});

describe("backfill from the System Log", () => {
  it("asks Okta for the range and types as an eventType filter, oldest first", () => {
    const url = new URL(
      logsUrl({ since: minutes(0), until: minutes(10), types: ["a.b", "c.d"], limit: 50 }),
      "http://x",
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      since: minutes(0),
      until: minutes(10),
      limit: "50",
      sortOrder: "ASCENDING",
      filter: 'eventType eq "a.b" or eventType eq "c.d"',
    });
  });

  it("follows Link pagination to the end, waits for the rate limit, and stores exactly the range's events", async () => {
    waits.length = 0;
    const expected = inRange(0, 100);
    const pages: (string | null)[] = [];
    const result = await backfill(
      client(),
      { since: minutes(0), until: minutes(100), types: ALL_TYPES, limit: 25 },
      hook(),
      { onPage: (progress) => pages.push(progress.cursor) },
    );
    expect(result).toMatchObject({ events: expected.length, pages: Math.ceil(expected.length / 25), cursor: null });
    expect(pages.at(-1)).toBeNull();
    expect(pages.slice(0, -1).every((cursor) => typeof cursor === "string")).toBe(true);
    // Four pages at two requests a second: the client waited for X-Rate-Limit-Reset instead of meeting a 429.
    expect(waits.some((why) => why.startsWith("rate limit reached"))).toBe(true);
    expect(standin.org.requests.filter((r) => r.status === 429)).toEqual([]);
    const stored = new Set(await storedUuids(service.url));
    expect(stored.size).toBe(expected.length);
    for (const event of expected) expect(stored.has(String(event.uuid))).toBe(true);
  });

  it("sends events already stored again without storing them twice", async () => {
    const before = (await storedUuids(service.url)).length;
    const result = await backfill(
      client(),
      { since: minutes(0), until: minutes(100), types: ALL_TYPES, limit: 100 },
      hook(),
    );
    expect(result.events).toBe(inRange(0, 100).length);
    expect((await storedUuids(service.url)).length).toBe(before);
  });

  it("stops where asked, prints a cursor, and resumes from it without a gap or a duplicate", async () => {
    const before = new Set(await storedUuids(service.url));
    const range = {
      since: minutes(100),
      until: minutes(250),
      types: ["system.import.start", "system.api_token.create"],
    };
    const first = await backfill(client(), { ...range, limit: 5 }, hook(), { shouldStop: () => true });
    expect(first).toMatchObject({ pages: 1, events: 5, cursor: expect.any(String) });
    const rest = await backfill(client(), { ...range, limit: 5, after: first.cursor ?? "" }, hook());
    expect(rest.cursor).toBeNull();
    const expected = inRange(100, 250).filter((event) => range.types.includes(String(event.eventType)));
    expect(first.events + rest.events).toBe(expected.length);
    const added = (await storedUuids(service.url)).filter((uuid) => !before.has(uuid));
    expect(added.sort()).toEqual(expected.map((event) => String(event.uuid)).sort());
  });

  it("waits out a 429 until X-Rate-Limit-Reset, then carries on", async () => {
    // Someone else spends the window's requests first.
    for (let i = 0; i < 3; i++) {
      await fetch(`${standin.url}/api/v1/logs?since=${minutes(0)}`, {
        headers: { Authorization: "SSWS standin-token" },
      });
    }
    const limited = standin.org.requests.filter((r) => r.status === 429).length;
    expect(limited).toBeGreaterThan(0);
    waits.length = 0;
    const started = Date.now();
    const result = await backfill(client(), { since: minutes(0), until: minutes(20), types: ALL_TYPES }, hook());
    expect(result.events).toBe(inRange(0, 20).length);
    expect(waits.some((why) => why.startsWith("429 from GET /api/v1/logs"))).toBe(true);
    expect(standin.org.requests.filter((r) => r.status === 429).length).toBeGreaterThan(limited);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("tries an Okta 5xx again, backing off, and carries on", async () => {
    standin.org.logFailures.push(500, 503, 502);
    const retries: string[] = [];
    const result = await backfill(client(), { since: minutes(0), until: minutes(20), types: ALL_TYPES }, hook(), {
      retryDelaysMs: [10, 20, 40, 80],
      onRetry: (ms, why) => retries.push(`${ms} ${why}`),
    });
    expect(result.events).toBe(inRange(0, 20).length);
    expect(retries).toHaveLength(3);
    expect(retries.map((line) => line.split(" ")[0])).toEqual(["10", "20", "40"]);
    expect(retries[0]).toContain("Okta answered 500 E0000009");
    expect(standin.org.logFailures).toEqual([]);
  });

  it("stops after the last retry of a lasting Okta outage, with Okta's error", async () => {
    standin.org.logFailures.push(503, 503, 503, 503);
    const run = backfill(client(), { since: minutes(0), until: minutes(20), types: ALL_TYPES }, hook(), {
      retryDelaysMs: [5, 5, 5],
    });
    await expect(run).rejects.toThrow(OktaApiError);
    expect(standin.org.logFailures).toEqual([]);
  });

  it("stops with a clear error when the service refuses the admin token, having stored nothing", async () => {
    const before = (await storedUuids(service.url)).length;
    const run = backfill(
      client(),
      { since: minutes(0), until: minutes(250), types: ALL_TYPES },
      { ...hook(), adminToken: "wrong" },
    );
    await expect(run).rejects.toThrow(ServiceRefused);
    await expect(run).rejects.toThrow("refused the admin token (401)");
    expect((await storedUuids(service.url)).length).toBe(before);
  });
});

describe("npm run okta:backfill, end to end", () => {
  const exec = promisify(execFile);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, service.url), {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json() as Promise<Record<string, unknown>>;
  };
  /** The CLI as a user runs it; async, so the stand-in in this process can answer it. */
  const cli = async (args: string[]) => {
    const result = await exec(process.execPath, ["--import", "tsx", "tools/okta-backfill/cli.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        ...process.env,
        OKTA_ORG_URL: standin.url,
        OKTA_API_TOKEN: "standin-token",
        ADMIN_TOKEN,
        SERVICE_URL: service.url,
      },
    }).catch((err: { stdout: string; stderr: string; code: number }) => err);
    return `${result.stdout}${result.stderr}`;
  };
  const runsOf = async (workflowId: string) =>
    ((await api("GET", `/api/runs?workflowId=${workflowId}`)).runs as { late: { late: boolean } | null }[]) ?? [];

  it("stores a week-old window without starting a run, says what it would start and send, and starts it on --start-runs", async () => {
    const assetId = `00Tweek${Date.now()}`;
    const workflow = await api("POST", "/api/workflows", {
      name: `page on-call ${assetId}`,
      trigger: { eventTypes: ["system.api_token.create"], filter: { field: "id", op: "eq", value: assetId } },
      start: "page",
      nodes: {
        page: {
          kind: "action",
          action: { type: "http", method: "POST", url: "http://127.0.0.1:9/page", body: { text: "{{ run.lateBy }}" } },
        },
      },
    });
    const weekAgo = Date.now() - 7 * 24 * 3600_000;
    const target = [{ id: assetId, type: "Token", alternateId: "unknown", displayName: "ci" }];
    standin.org.logs.push(
      ...[0, 1].map((i) =>
        oktaEvent({ eventType: "system.api_token.create", target, published: new Date(weekAgo + i * 60_000) }),
      ),
    );
    const window = [
      "--since",
      new Date(weekAgo - 60_000).toISOString(),
      "--until",
      new Date(weekAgo + 3600_000).toISOString(),
    ];

    const stored = await cli(window);
    expect(stored).toContain("mode: store-only (the window starts more than 1 h ago");
    expect(stored).toContain("would start 2 runs");
    expect(stored).toMatch(/2 x http\s+POST http:\/\/127\.0\.0\.1:9\/page/);
    expect(stored).toContain("store-only: nothing started");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await runsOf(String(workflow.id))).toEqual([]);

    const started = await cli([...window, "--start-runs"]);
    expect(started).toContain("would start 2 runs");
    expect(started).toContain("started: 2 runs");
    const deadline = Date.now() + 20_000;
    let runs = await runsOf(String(workflow.id));
    while (runs.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      runs = await runsOf(String(workflow.id));
    }
    expect(runs).toHaveLength(2);
    expect(runs.every((run) => run.late?.late === true)).toBe(true);
  });

  it("npm run replay splits a range of more than 1000 events into parts the service takes", async () => {
    const start = Date.parse("2025-03-01T00:00:00.000Z");
    const events = Array.from({ length: 1001 }, (_, i) =>
      oktaEvent({ eventType: "system.import.start", published: new Date(start + i * 1000) }),
    );
    for (let i = 0; i < events.length; i += 100) {
      const res = await fetch(new URL("/api/backfill/deliveries", service.url), {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify(oktaDelivery(events.slice(i, i + 100))),
      });
      expect(res.status).toBe(200);
    }
    const result = await exec(
      process.execPath,
      ["--import", "tsx", "tools/replay/cli.ts", "--since", "2025-03-01", "--until", "2025-03-02"],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, ADMIN_TOKEN, SERVICE_URL: service.url } },
    );
    expect(result.stdout).toContain("1001 stored events from 2025-03-01T00:00:00.000Z to 2025-03-02T00:00:00.000Z");
    expect(result.stdout).toContain("would start 0 runs");
  });
});
