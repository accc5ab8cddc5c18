/** The security decisions as pure functions: where sign-in may redirect, session verdicts, failure windows. */
import { describe, expect, it } from "vitest";
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
