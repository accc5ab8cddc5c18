/** The security decisions as pure functions: where sign-in may redirect, session verdicts, failure windows. */
import { describe, expect, it } from "vitest";
import { clientKey, LOCAL_KEY } from "../src/limits/client-key";
import {
  countFailure,
  FAILURE_LIMIT,
  FAILURE_WINDOW_MS,
  type FailureWindow,
  limitAt,
} from "../src/limits/failure-window";
import { safeNext } from "../src/ui/next-path";
import { IDLE_SECONDS, newSession, SESSION_SECONDS, sessionVerdict } from "../src/ui/session-policy";

const ORIGIN = "https://dash.example.com";

describe("safeNext: the sign-in redirect stays on this origin", () => {
  it.each([
    ["/events?id=x", "/events?id=x"],
    ["/runs/abc#steps", "/runs/abc#steps"],
    ["/a/../workflows", "/workflows"],
    ["https://dash.example.com/assets", "/assets"],
  ])("keeps %j as %j", (next, expected) => {
    expect(safeNext(next, ORIGIN)).toBe(expected);
  });

  it.each([
    "//evil.example/x",
    "/\t/evil.example/x",
    "/\n/evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http://dash.example.com/",
    "https://dash.example.com:8443/",
    "javascript:alert(1)",
    "data:text/html,hi",
    "http://[::1",
  ])("refuses %j", (next) => {
    expect(safeNext(next, ORIGIN)).toBe("/");
  });

  it("sends an empty or missing next to the overview", () => {
    expect(safeNext(undefined, ORIGIN)).toBe("/");
    expect(safeNext("", ORIGIN)).toBe("/");
  });
});

describe("sessionVerdict: when a dashboard session counts", () => {
  const start = new Date("2026-12-04T08:00:00.000Z");
  const session = newSession("key", "token-hash", start);
  const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
  const seenAt = (seconds: number) => ({ ...session, lastSeenAt: at(seconds).toISOString() });

  it("is live after sign-in, and records a use only once a minute has passed", () => {
    expect(sessionVerdict(session, "token-hash", at(0))).toEqual({ live: true, touch: false });
    expect(sessionVerdict(session, "token-hash", at(59))).toEqual({ live: true, touch: false });
    expect(sessionVerdict(session, "token-hash", at(60))).toEqual({ live: true, touch: true });
  });

  it("ends after 30 minutes without a request", () => {
    expect(sessionVerdict(session, "token-hash", at(IDLE_SECONDS - 1))).toMatchObject({ live: true });
    expect(sessionVerdict(session, "token-hash", at(IDLE_SECONDS))).toEqual({ live: false, reason: "idle" });
  });

  it("ends 12 hours after sign-in however active it was", () => {
    const busy = seenAt(SESSION_SECONDS - 10);
    expect(sessionVerdict(busy, "token-hash", at(SESSION_SECONDS - 1))).toMatchObject({ live: true });
    expect(sessionVerdict(busy, "token-hash", at(SESSION_SECONDS))).toEqual({ live: false, reason: "expired" });
  });

  it("ends when ADMIN_TOKEN is no longer the token it was made under", () => {
    expect(sessionVerdict(session, "other-hash", at(1))).toEqual({ live: false, reason: "token_rotated" });
  });

  it("ends a session whose times cannot be read, rather than keeping it", () => {
    expect(sessionVerdict({ ...session, expiresAt: "soon" }, "token-hash", at(1))).toMatchObject({ live: false });
    expect(sessionVerdict({ ...session, lastSeenAt: "" }, "token-hash", at(1))).toMatchObject({ live: false });
  });
});

describe("the failure window", () => {
  const start = 1_800_000_000_000;
  const failures = (count: number, every = 1000): FailureWindow | null => {
    let window: FailureWindow | null = null;
    for (let i = 0; i < count; i++) window = countFailure(window, start + i * every);
    return window;
  };

  it("allows FAILURE_LIMIT failures, then refuses until the window ends", () => {
    expect(limitAt(failures(FAILURE_LIMIT - 1), start + 60_000)).toEqual({ blocked: false });
    expect(limitAt(failures(FAILURE_LIMIT), start + 60_000)).toEqual({
      blocked: true,
      retryAfterSeconds: (FAILURE_WINDOW_MS - 60_000) / 1000,
    });
    expect(limitAt(failures(FAILURE_LIMIT), start + FAILURE_WINDOW_MS - 1)).toEqual({
      blocked: true,
      retryAfterSeconds: 1,
    });
    expect(limitAt(failures(FAILURE_LIMIT), start + FAILURE_WINDOW_MS)).toEqual({ blocked: false });
  });

  it("is fixed: it opens at the first failure and later failures do not move it", () => {
    const window = failures(5, 60_000);
    expect(window).toEqual({ startedAt: start, failures: 5 });
    expect(countFailure(window, start + FAILURE_WINDOW_MS)).toEqual({
      startedAt: start + FAILURE_WINDOW_MS,
      failures: 1,
    });
  });

  it("never asks for more than the window's length, even for a window that starts in the future", () => {
    const future = { startedAt: start + 3_600_000, failures: FAILURE_LIMIT };
    expect(limitAt(future, start)).toEqual({ blocked: false });
    expect(countFailure(future, start)).toEqual({ startedAt: start, failures: 1 });
  });
});

describe("clientKey: whose failures count together", () => {
  it.each([
    [undefined, LOCAL_KEY],
    ["", LOCAL_KEY],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
  ])("%j counts as %j", (header, key) => {
    expect(clientKey(header)).toBe(key);
  });

  it("keeps one key per unparseable value, bounded", () => {
    expect(clientKey("not-an-address")).toBe("not-an-address");
    expect(clientKey("1:2:3:4:5:6:7:8:9")).toBe("1:2:3:4:5:6:7:8:9");
    expect(clientKey("x".repeat(500))).toHaveLength(64);
  });
});
