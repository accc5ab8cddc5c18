/**
 * Tests that provoke a failure on purpose make the Worker log it; those lines are
 * expected and are kept out of the test output, while every other console line (a real
 * failure) still prints. Failures the tests inject carry the word "injected", and
 * vitest.config.ts drops log lines that contain it; `expectLogged` covers the other
 * expected lines, for one test, and hands back what was logged.
 */
import { onTestFinished, vi } from "vitest";

/** Until the current test ends, holds back console[level] calls whose message is one of `messages`; returns their arguments. Call once per level. */
export function expectLogged(level: "error" | "warn", ...messages: string[]): unknown[][] {
  const held: unknown[][] = [];
  const original = console[level].bind(console);
  const spy = vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
    const line = asLine(args);
    if (line && messages.includes(line[0])) held.push(line);
    else original(...args);
  });
  onTestFinished(() => spy.mockRestore());
  return held;
}

/** The Worker logs one JSON object a line (`{"msg", ...details}`); tests see it as [msg, details]. */
function asLine(args: unknown[]): [string, Record<string, unknown>] | null {
  const [first] = args;
  if (typeof first !== "string" || !first.startsWith("{")) return null;
  try {
    const { msg, ...details }: { msg?: unknown } & Record<string, unknown> = JSON.parse(first);
    return typeof msg === "string" ? [msg, details] : null;
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/** Collects the JSON lines the Worker writes with console.log during this test. */
export function infoLines(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
  });
  onTestFinished(() => spy.mockRestore());
  return lines;
}
