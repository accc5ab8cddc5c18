/** The security decisions as pure functions: where sign-in may redirect, session verdicts, failure windows. */
import { describe, expect, it } from "vitest";
import { safeNext } from "../src/ui/next-path";

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
