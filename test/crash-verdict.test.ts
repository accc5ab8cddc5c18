/**
 * The crash test's judgement (tools/crash-test/verdict.ts), pure: it must fail on each
 * defect it exists to catch, and pass a clean outcome. The crash test itself (wrangler
 * dev, SIGKILL, minutes of cron) is `npm run crash-test`, not part of `npm test`.
 */
import { describe, expect, it } from "vitest";
import { type ActionCall, type AssetPlan, allAtTheirEnd, judge, type RunView } from "../tools/crash-test/verdict";

const resume = (assetId: string, awaitedAccepted = true): AssetPlan => ({
  assetId,
  kind: "resume",
  triggerAccepted: true,
  awaitedAccepted,
});
const call = (path: string, key: string | null): ActionCall => ({ path, key, at: 0 });
const run = (id: string, assetId: string, status: string): RunView => ({ id, assetId, status });

/** A clean outcome: two resume runs and one timeout run, all ended with their actions. */
function clean() {
  return {
    acceptedEventUuids: ["e1", "e2", "e3", "e4", "e5"],
    storedEventUuids: ["e1", "e2", "e3", "e4", "e5"],
    plans: [resume("a"), resume("b"), { assetId: "t", kind: "timeout", triggerAccepted: true, awaitedAccepted: false }],
    runs: [run("r1", "a", "completed"), run("r2", "b", "completed"), run("r3", "t", "timed_out")],
    calls: [
      call("/first/a", "r1:first"),
      call("/second/a", "r1:second"),
      call("/first/b", "r2:first"),
      call("/second/b", "r2:second"),
      call("/page/t", "r3:page"),
    ],
    strictRepeats: false,
  } satisfies Parameters<typeof judge>[0];
}

const failing = (input: Parameters<typeof judge>[0]) =>
  judge(input)
    .filter((c) => !c.ok && c.severity === "fail")
    .map((c) => c.name);

describe("crash test verdict", () => {
  it("passes a clean outcome, and sees every run at its end", () => {
    expect(failing(clean())).toEqual([]);
    expect(allAtTheirEnd(clean().plans, clean().runs)).toBe(true);
  });

  it("fails a run left waiting although its awaited event was accepted", () => {
    const input = {
      ...clean(),
      runs: [run("r1", "a", "completed"), run("r2", "b", "waiting"), run("r3", "t", "timed_out")],
    };
    input.calls = input.calls.filter((c) => c.path !== "/second/b");
    expect(failing(input)).toEqual(["no run stuck in running or waiting"]);
    expect(allAtTheirEnd(input.plans, input.runs)).toBe(false);
  });

  it("lets a run wait whose awaited event was never accepted", () => {
    const input = { ...clean(), plans: [resume("a"), resume("b", false), clean().plans[2] as AssetPlan] };
    input.runs = [run("r1", "a", "completed"), run("r2", "b", "waiting"), run("r3", "t", "completed")];
    input.calls = input.calls.filter((c) => c.path !== "/second/b");
    expect(failing(input)).toEqual([]);
  });

  it("fails an action made under two Idempotency-Keys, and one without a key", () => {
    expect(failing({ ...clean(), calls: [...clean().calls, call("/second/a", "other:second")] })).toEqual([
      "no action executed under two Idempotency-Keys",
    ]);
    expect(failing({ ...clean(), calls: [...clean().calls, call("/first/b", null)] })).toEqual([
      "no action executed under two Idempotency-Keys",
    ]);
  });

  it("warns on a repeat under the same key, and fails it with strictRepeats", () => {
    const input = { ...clean(), calls: [...clean().calls, call("/first/a", "r1:first")] };
    const repeat = judge(input).find((c) => c.name.startsWith("each action executed at most once"));
    expect(repeat).toMatchObject({ ok: false, severity: "warn" });
    expect(failing(input)).toEqual([]);
    expect(failing({ ...input, strictRepeats: true })).toEqual([
      "each action executed at most once per Idempotency-Key",
    ]);
  });

  it("fails a lost or duplicated event, a second run, and a missing action", () => {
    expect(failing({ ...clean(), storedEventUuids: ["e1", "e2", "e3", "e4"] })).toEqual([
      "every accepted event stored once",
    ]);
    expect(failing({ ...clean(), storedEventUuids: [...clean().storedEventUuids, "e1"] })).toEqual([
      "every accepted event stored once",
    ]);
    expect(failing({ ...clean(), runs: [...clean().runs, run("r4", "a", "completed")] })).toEqual([
      "one run per accepted trigger",
    ]);
    expect(failing({ ...clean(), calls: clean().calls.filter((c) => c.path !== "/page/t") })).toEqual([
      "every ended run made exactly its actions",
    ]);
  });
});
