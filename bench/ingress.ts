/**
 * `npm run bench` (also `npm run bench -- --quick`): throughput and latency of
 * POST /hooks/okta on the local Workers runtime, beside two baselines started the
 * same way in the same run:
 *   bare     a Worker that answers 204 (the runtime's own ceiling)
 *   minimal  a Worker with our I/O and none of our logic: parse JSON, insert one D1
 *            row, send one queue message (bench/workers/minimal.js)
 *   ours     this project's Worker, bundled as deployed, D1 migrated, queue consumer on,
 *            sent 1-event and 50-event deliveries
 * Every request is a distinct delivery. Cases run round-robin, `repeats` times, and
 * the report gives medians. Ours starts fresh each round (new D1, new queue); between
 * its two runs the consumer finishes its backlog, and the backlog left by the 50-event
 * run is reported, not waited for. Settings: bench/lib/report.ts (BENCH_* variables).
 */
import { parseCli, printedHelp, runCli } from "../tools/cli/args";
import { oktaHeaders } from "../tools/local-okta/builders";
import { deliveryBodies } from "./lib/deliveries";
import { verdict } from "./lib/known-misses";
import { type LoadResult, measureLoad, median } from "./lib/load";
import { fixed, machine, settingsFromEnv, table, writeResults } from "./lib/report";
import {
  applyMigrations,
  projectQueueConsumer,
  projectWorkerOptions,
  ROOT,
  type RunningWorker,
  runtimeDescription,
  startWorker,
  tempDir,
} from "./lib/runtime";

const HELP = `Usage: npm run bench [-- --quick] [-- --diagnose]

Measures POST /hooks/okta (1-event and 50-event deliveries) against a bare Worker and a
minimal D1 + queue Worker, all under the Miniflare API, and writes bench/results/*.json.

  --quick      ~30 s instead of ~3 min: one round of 3 s runs (a smoke check, not a measurement)
  --diagnose   also measure our Worker with its queue consumer off, to split ingress cost
               from consumer cost, and the minimal Worker's I/O for 50 events (adds ~1.5 min)
Environment: BENCH_WARMUP, BENCH_DURATION (seconds per run; default 2 and 8),
BENCH_REPEATS (rounds; default 3), BENCH_CONNECTIONS (default 10).`;

const SECRET = "bench-hook-secret";
const HOOK_PATH = "/hooks/okta";
/** Longest wait for our queue consumer to catch up between runs. */
const DRAIN_TIMEOUT_MS = 60_000;

interface Case {
  id: string;
  label: string;
  worker: "bare" | "minimal" | "minimalBatch" | "ours" | "oursNoConsumer";
  eventsPerDelivery: number;
}

const CASES: Case[] = [
  { id: "bare", label: "bare Worker, 204", worker: "bare", eventsPerDelivery: 1 },
  { id: "minimal", label: "minimal Worker (JSON + 1 row + 1 msg)", worker: "minimal", eventsPerDelivery: 1 },
  { id: "ours-1", label: "ours, 1-event delivery", worker: "ours", eventsPerDelivery: 1 },
  { id: "ours-50", label: "ours, 50-event delivery", worker: "ours", eventsPerDelivery: 50 },
];

/**
 * --diagnose: the same Worker with no queue consumer, i.e. the ingress path alone; and the
 * minimal Worker's I/O for all 50 events of a delivery, i.e. what 50 events cost at least.
 */
const DIAGNOSTIC_CASES: Case[] = [
  {
    id: "minimal-50",
    label: "minimal Worker, 50 events (50 rows + 50 msgs)",
    worker: "minimalBatch",
    eventsPerDelivery: 50,
  },
  { id: "ingress-1", label: "ours, consumer off, 1 event", worker: "oursNoConsumer", eventsPerDelivery: 1 },
  { id: "ingress-50", label: "ours, consumer off, 50 events", worker: "oursNoConsumer", eventsPerDelivery: 50 },
];

interface Run extends LoadResult {
  round: number;
  /** Ours only: events the consumer finished per second during the run (warm-up included). */
  consumedPerSecond?: number;
  /** Ours only: events not yet consumed when the load stopped, and how long the consumer took to finish them. */
  backlog?: number;
  drainSeconds?: number;
}

async function main(argv: string[]) {
  const { values } = parseCli(argv, { quick: { type: "boolean" }, diagnose: { type: "boolean" } });
  if (printedHelp(values, HELP)) return 0;
  const settings = settingsFromEnv(values.quick ?? false);
  const cases = values.diagnose ? [...CASES, ...DIAGNOSTIC_CASES] : CASES;
  const host = machine();
  console.log(`Runtime: ${runtimeDescription()}.`);
  console.log(
    "  Why: wrangler dev adds its own Node process and a second workerd to every request (~6x slower for a\n" +
      "  bare Worker, measured for bench/README.md); Miniflare runs the same workerd with the same D1 and Queues\n" +
      "  simulators and lets all three Workers be started identically.",
  );
  console.log(
    `Machine: ${host.cores} cores (${host.cpu}), ${host.memoryGb} GB, Node ${host.node}, load ${host.loadAverage.join(" ")}`,
  );
  console.log(
    `Load: autocannon, ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per run, ` +
      `${settings.repeats} round${settings.repeats === 1 ? "" : "s"}\n`,
  );

  const build = await tempDir("bench-build-");
  const workers: Partial<Record<Case["worker"], RunningWorker>> = {};
  const stopAll = async () => {
    await Promise.allSettled(Object.values(workers).map((w) => w.stop()));
    await build.remove();
  };
  process.once("SIGINT", () => {
    void stopAll().finally(() => process.exit(130));
  });

  try {
    process.stdout.write("Bundling our Worker (wrangler deploy --dry-run) and starting three runtimes... ");
    const started = performance.now();
    const ours = await projectWorkerOptions(build.path);
    const queue = projectQueueConsumer();
    workers.bare = await startWorker("bare", { scriptPath: `${ROOT}bench/workers/bare.js`, modules: true });
    workers.minimal = await startWorker("minimal", {
      scriptPath: `${ROOT}bench/workers/minimal.js`,
      modules: true,
      compatibilityDate: ours.compatibilityDate,
      d1Databases: { DB: "bench-minimal" },
      queueProducers: { EVENTS: { queueName: "bench-minimal" } },
      queueConsumers: { "bench-minimal": queue },
    });
    if (values.diagnose) {
      workers.minimalBatch = await startWorker("minimal-batch", {
        scriptPath: `${ROOT}bench/workers/minimal-batch.js`,
        modules: true,
        compatibilityDate: ours.compatibilityDate,
        d1Databases: { DB: "bench-minimal-batch" },
        queueProducers: { EVENTS: { queueName: "bench-minimal-batch" } },
        queueConsumers: { "bench-minimal-batch": queue },
      });
      await applyMigrations(await workers.minimalBatch.db());
    }
    const oursOptions = {
      ...ours,
      cronTriggers: [],
      bindings: {
        ...(ours.bindings as Record<string, string>),
        OKTA_HOOK_SECRET: SECRET,
        OKTA_HOOK_SECRET_PREVIOUS: "",
        ADMIN_TOKEN: "bench-admin-token",
      },
    };
    // Ours gets fresh storage and a fresh queue every round, so one round's consumer
    // backlog and table growth do not carry into the next.
    const startOurs = async (kind: "ours" | "oursNoConsumer") => {
      const worker = await startWorker(
        kind === "ours" ? "ours" : "ours-no-consumer",
        kind === "ours" ? oursOptions : { ...oursOptions, queueConsumers: {} },
      );
      workers[kind] = worker;
      await applyMigrations(await worker.db());
      return worker;
    };
    await applyMigrations(await workers.minimal.db());
    await startOurs("ours");
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
    await smokeTest(workers.bare, workers.minimal, workers.ours as RunningWorker);

    const runs = new Map<string, Run[]>(cases.map((c) => [c.id, []]));
    const headers = oktaHeaders(SECRET);
    for (let round = 1; round <= settings.repeats; round++) {
      for (const c of cases) {
        const worker = workers[c.worker] ?? (await startOurs(c.worker as "ours" | "oursNoConsumer"));
        const lastOnWorker = c === cases.findLast((other) => other.worker === c.worker);
        const consumedBefore = c.worker === "ours" ? await consumedCount(worker) : 0;
        const loadStarted = performance.now();
        const result = await measureLoad({
          url: new URL(HOOK_PATH, worker.url).href,
          headers,
          body: deliveryBodies(c.eventsPerDelivery),
          connections: settings.connections,
          warmupSeconds: settings.warmupSeconds,
          durationSeconds: settings.durationSeconds,
        });
        const run: Run = { round, ...result };
        if (c.worker === "ours") {
          const seconds = (performance.now() - loadStarted) / 1000;
          run.consumedPerSecond = ((await consumedCount(worker)) - consumedBefore) / seconds;
          // Before another run on the same runtime, let the consumer finish this run's messages.
          Object.assign(run, await drain(worker, !lastOnWorker));
        } else if (c.worker === "minimal" || c.worker === "minimalBatch") {
          await sleep(1500); // the baseline's consumer acknowledges its last batch
        }
        if (lastOnWorker && (c.worker === "ours" || c.worker === "oursNoConsumer")) {
          await worker.stop();
          delete workers[c.worker];
        }
        runs.get(c.id)?.push(run);
        console.log(
          `  round ${round}  ${c.id.padEnd(10)} ${fixed(run.rps).padStart(7)} req/s  p50 ${fixed(run.p50)} ms  p99 ${fixed(run.p99)} ms` +
            (run.failed ? `  FAILED ${run.failed} ${JSON.stringify(run.statusCodes)}` : "") +
            (run.consumedPerSecond === undefined ? "" : `  consumer ${fixed(run.consumedPerSecond, 0)} events/s`) +
            (run.backlog === undefined ? "" : `, backlog ${run.backlog}`) +
            (run.drainSeconds === undefined ? "" : `, drained in ${fixed(run.drainSeconds)} s`),
        );
      }
    }

    const summary = cases.map((c) => {
      const list = runs.get(c.id) ?? [];
      return {
        ...c,
        rps: median(list.map((r) => r.rps)),
        p50: median(list.map((r) => r.p50)),
        p99: median(list.map((r) => r.p99)),
        mean: median(list.map((r) => r.mean)),
        eventsPerSecond: median(list.map((r) => r.rps)) * c.eventsPerDelivery,
        consumedPerSecond: c.worker === "ours" ? median(list.map((r) => r.consumedPerSecond ?? 0)) : undefined,
        failed: list.reduce((sum, r) => sum + r.failed, 0),
        runs: list,
      };
    });
    const by = (id: string) => summary.find((s) => s.id === id) as (typeof summary)[number];
    const [bare, minimal, one, fifty] = [by("bare"), by("minimal"), by("ours-1"), by("ours-50")];
    const ratios = [
      {
        name: "throughput ours-1 / minimal",
        value: one.rps / minimal.rps,
        target: ">= 0.8",
        pass: one.rps / minimal.rps >= 0.8,
        id: "ingress throughput" as const,
      },
      {
        name: "p99 ours-1 / minimal",
        value: one.p99 / minimal.p99,
        target: "<= 1.5",
        pass: one.p99 / minimal.p99 <= 1.5,
        id: "ingress p99" as const,
      },
      {
        name: "cost 50-event / 1-event (inverse throughput: req/s 1 / req/s 50)",
        value: one.rps / fifty.rps,
        target: "< 3",
        pass: one.rps / fifty.rps < 3,
        id: "ingress 50-event cost" as const,
      },
      { name: "  same, as mean latency 50 / 1 (for comparison)", value: fifty.mean / one.mean, target: "", pass: true },
      {
        name: "minimal / bare throughput (how much the I/O costs)",
        value: minimal.rps / bare.rps,
        target: "",
        pass: true,
      },
    ];
    if (values.diagnose) {
      const [ingress1, ingress50] = [by("ingress-1"), by("ingress-50")];
      ratios.push(
        {
          name: "consumer off: throughput ours-1 / minimal",
          value: ingress1.rps / minimal.rps,
          target: "",
          pass: true,
        },
        { name: "consumer off: p99 ours-1 / minimal", value: ingress1.p99 / minimal.p99, target: "", pass: true },
        { name: "consumer off: cost 50-event / 1-event", value: ingress1.rps / ingress50.rps, target: "", pass: true },
        {
          name: "minimal: cost 50-event / 1-event (the I/O's own)",
          value: minimal.rps / by("minimal-50").rps,
          target: "",
          pass: true,
        },
        {
          name: "throughput ours-50 / minimal-50",
          value: fifty.rps / by("minimal-50").rps,
          target: "",
          pass: true,
        },
      );
    }

    console.log(
      settings.repeats === 1
        ? "\nOne run per case (a smoke check; use the default 3 rounds for numbers):\n"
        : `\nMedians of ${settings.repeats} runs:\n`,
    );
    console.log(
      table(
        ["case", "req/s", "events/s", "consumed/s", "p50 ms", "p99 ms", "mean ms", "failed", "req/s per run"],
        summary.map((s) => [
          s.label,
          fixed(s.rps, 0),
          fixed(s.eventsPerSecond, 0),
          s.consumedPerSecond === undefined ? "" : fixed(s.consumedPerSecond, 0),
          fixed(s.p50),
          fixed(s.p99),
          fixed(s.mean),
          s.failed,
          s.runs.map((r) => fixed(r.rps, 0)).join(" "),
        ]),
      ),
    );
    console.log("");
    console.log(
      table(
        ["ratio", "value", "target", ""],
        ratios.map((r) => [
          r.name,
          fixed(r.value, 2),
          r.target,
          !("id" in r && r.id) ? "" : !Number.isFinite(r.value) ? "n/a" : verdict(r.pass, r.id),
        ]),
      ),
    );
    const file = await writeResults("ingress", {
      benchmark: "ingress",
      date: new Date().toISOString(),
      runtime: runtimeDescription(),
      machine: host,
      settings,
      cases: summary,
      ratios,
    });
    console.log(`\nResults: ${file.replace(ROOT, "")}`);
  } finally {
    await stopAll();
  }
}

/** One request to each Worker, so a broken setup fails fast instead of measuring errors. */
async function smokeTest(bare: RunningWorker, minimal: RunningWorker, ours: RunningWorker) {
  const body = deliveryBodies(1)();
  for (const worker of [bare, minimal, ours]) {
    const res = await fetch(new URL(HOOK_PATH, worker.url), { method: "POST", headers: oktaHeaders(SECRET), body });
    if (!res.ok) throw new Error(`${worker.name} answered ${res.status}: ${await res.text()}`);
  }
  const uuid = (JSON.parse(body) as { data: { events: { uuid: string }[] } }).data.events[0]?.uuid;
  const db = await ours.db();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const row = await db.prepare("select consumed_at from events where uuid = ?").bind(uuid).first();
    if (row?.consumed_at) {
      console.log("Smoke test: all three answer; our delivery was stored and consumed by our queue consumer.\n");
      return;
    }
    await sleep(100);
  }
  throw new Error("our queue consumer did not consume the smoke-test event within 10 s");
}

async function consumedCount(worker: RunningWorker): Promise<number> {
  const db = await worker.db();
  return Number((await db.prepare("select count(consumed_at) as n from events").first())?.n ?? 0);
}

/** Our consumer's backlog when the load stopped; with `wait`, also waits for the consumer to finish it. */
async function drain(worker: RunningWorker, wait: boolean): Promise<{ backlog: number; drainSeconds?: number }> {
  const db = await worker.db();
  const pending = async () =>
    Number((await db.prepare("select count(*) as n from events where consumed_at is null").first())?.n ?? 0);
  const started = performance.now();
  const backlog = await pending();
  if (!wait) return { backlog };
  let left = backlog;
  while (left > 0 && performance.now() - started < DRAIN_TIMEOUT_MS) {
    await sleep(250);
    left = await pending();
  }
  if (left > 0) console.warn(`  warning: ${left} events still unconsumed after ${DRAIN_TIMEOUT_MS / 1000} s`);
  return { backlog, drainSeconds: (performance.now() - started) / 1000 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

runCli(HELP, main);
