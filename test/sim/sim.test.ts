/**
 * The seeded fault simulator (issue 15), in workerd: SIM_SEED=S runs one seed, SIM_SEEDS=N
 * runs seeds 1..N (SIM_FIRST moves the start), default the CI seeds below. Every seed is its
 * own test, named by its replay command. `npm run sim` wraps this file.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaultKind } from "./fault-plan";
import { Outside } from "./outside";
import { runSeed, type SeedResult } from "./runner";
import type { ScheduleOptions } from "./schedule";

/** Seeds CI runs: a spread of faults, quick on two cores. */
const CI_SEEDS = [1, 2, 3, 4, 5, 6];

const vars = env as unknown as Record<string, string | undefined>;
const options: ScheduleOptions = {
  faults: vars.SIM_FAULTS ? (vars.SIM_FAULTS.split(",") as FaultKind[]) : undefined,
  plain: vars.SIM_PLAIN === "1",
};
/** The flags a replay of these seeds needs. */
const flags = `${vars.SIM_FAULTS ? ` --faults ${vars.SIM_FAULTS}` : ""}${options.plain ? " --plain" : ""}`;
function seeds(): number[] {
  const one = vars.SIM_SEED;
  if (one) return [Number(one)];
  const count = Number(vars.SIM_SEEDS ?? 0);
  const first = Number(vars.SIM_FIRST || 1);
  return count > 0 ? Array.from({ length: count }, (_, i) => first + i) : CI_SEEDS;
}

let outside: Outside;
const results: SeedResult[] = [];
const started = Date.now();
beforeAll(() => {
  outside = new Outside();
});
afterAll(() => {
  const seconds = (Date.now() - started) / 1000;
  const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const failed = results.filter((r) => r.verdict.violations.length > 0).length;
  console.warn(
    `SIM SUMMARY schedules=${results.length} failed=${failed} faults=${sum((r) => r.faultsInjected)} checks=${sum((r) => r.verdict.checks)} messages=${sum((r) => r.messages)} cron=${sum((r) => r.cronPasses)} seconds=${seconds.toFixed(1)}`,
  );
});

describe("seeded fault simulator", () => {
  for (const seed of seeds()) {
    it(`seed ${seed} (replay: npm run sim -- --seed ${seed}${flags})`, async () => {
      const result = await runSeed(seed, outside, options);
      results.push(result);
      const { violations, checks } = result.verdict;
      const faults = result.schedule.faults.map((f) => f.kind).join(",");
      const fired = Object.entries(result.fired)
        .map(([k, n]) => `${k}x${n}`)
        .join(",");
      console.warn(
        `SIM SEED ${seed} ${violations.length === 0 ? "pass" : "FAIL"} faults=[${faults}] fired=[${fired}] checks=${checks} events=${result.schedule.events.length}`,
      );
      if (violations.length > 0) console.warn(`SIM PLAN seed=${seed} ${JSON.stringify(result.schedule.faults)}`);
      for (const v of violations) console.warn(`SIM VIOLATION seed=${seed} invariant=${v.invariant} ${v.message}`);
      expect(violations, `replay: npm run sim -- --seed ${seed}${flags}`).toEqual([]);
    }, 120_000);
  }
});
