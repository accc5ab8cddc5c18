/**
 * The seeded fault simulator (issue 15): for each seed, a generated schedule of Okta
 * deliveries and faults is run through the real Worker in workerd (real local D1,
 * WaitRooms and the queue handler), then the invariants are checked against the
 * oracle. `npm run sim` runs it; CI runs SIM_SEEDS (vitest.config.ts) seeds inside
 * `npm test`. A failing seed prints how to replay it alone.
 */
import { env } from "cloudflare:workers";
import { afterAll, expect, it, vi } from "vitest";
import { checkInvariants } from "./invariants";
import { createWorkflows, deleteWorkflows, endpoint, type OutboundCall, runSchedule } from "./run";
import { generate } from "./schedule";

const calls: OutboundCall[] = [];
const hostileAnswered = new Set<number>();
const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
  const request = new Request(input, init);
  calls.push({ url: request.url, key: request.headers.get("idempotency-key"), at: Date.now() });
  const seed = Number(/^https:\/\/sim-(\d+)-/.exec(request.url)?.[1]);
  // A hostile server: the first call of a seed's `one` action is told to come back in 3 million years.
  if (request.url === endpoint(seed, "one") && hostile.has(seed) && !hostileAnswered.has(seed)) {
    hostileAnswered.add(seed);
    return new Response("later", { status: 503, headers: { "retry-after": "99999999999999" } });
  }
  return new Response("ok");
});
afterAll(() => spy.mockRestore());
const hostile = new Set<number>();

function seedsToRun(): number[] {
  const one = env.SIM_SEED?.trim();
  if (one) return [Number(one)];
  const count = Number(env.SIM_SEEDS || 8);
  const first = Number(env.SIM_FIRST_SEED || 1);
  return Array.from({ length: count }, (_, i) => first + i);
}

const totals = { schedules: 0, faults: 0, checks: 0, failed: [] as number[], byKind: {} as Record<string, number> };

for (const seed of seedsToRun()) {
  it(`seed ${seed}`, { timeout: 120_000 }, async () => {
    const schedule = generate(seed, Date.now());
    if (schedule.faults.some((f) => f.kind === "hostile-retry-after")) hostile.add(seed);
    const workflows = await createWorkflows(schedule);
    const outcome = await runSchedule(schedule, workflows);
    // Resumes the WaitRooms send go through the real queue: give them time to land.
    let result = await checkInvariants(schedule, outcome, calls);
    for (let i = 0; i < 15 && result.violations.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await checkInvariants(schedule, outcome, calls);
    }
    totals.schedules += 1;
    totals.faults += Object.values(outcome.injected).reduce((a, b) => a + b, 0);
    totals.checks += result.checks;
    await deleteWorkflows(workflows);
    if (result.violations.length > 0) {
      totals.failed.push(seed);
      for (const violation of result.violations) {
        const kind = /^\[([a-z-]+)\]/.exec(violation)?.[1] ?? "other";
        totals.byKind[kind] = (totals.byKind[kind] ?? 0) + 1;
      }
      console.error(
        [
          `seed ${seed} broke ${result.violations.length} invariant check(s); faults ${JSON.stringify(schedule.faults)}, hit ${JSON.stringify(outcome.injected)}:`,
          ...result.violations.map((v) => `  - ${v}`),
          `replay: npm run sim -- --seed ${seed}`,
        ].join("\n"),
      );
    }
    expect(result.violations).toEqual([]);
  });
}

afterAll(() => {
  console.log(
    `SIM ${JSON.stringify({ schedules: totals.schedules, faultsInjected: totals.faults, invariantChecks: totals.checks, failedSeeds: totals.failed, violationsByKind: totals.byKind })}`,
  );
});
