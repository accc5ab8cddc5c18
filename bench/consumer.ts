/**
 * `npm run bench:consumer` (also `-- --quick`): queue consumer throughput with 10 and
 * with 10,000 enabled workflows. In both cases the same 10 workflows match the
 * benchmark events (system.api_token.create on assets `bench-…`) and run one no-op
 * http action (POST to a local node:http server that answers 204); in the 10,000
 * case 9,990 more enabled workflows match nothing: their triggers cover all 13 event
 * types (every 7th lists none, i.e. all 13), each with a filter `id eq <random uuid>`
 * that fails, so the trigger index hands the consumer ~2,100 candidates per benchmark
 * event, and ~1,200-1,900 for every other type.
 *
 * One round posts M fresh events through POST /hooks/okta (deliveries of 50) and
 * times from the first POST to the last of the M x 10 runs' action requests at the
 * receiver (then checks that every run completed). The two cases run side by side in
 * two Workers and alternate, round after round. Each round also measures the minimal
 * queue consumer (bench/workers/queue-baseline.js: one D1 row and one fetch per
 * message) with M x 10 messages; the report gives medians, our runs/s over the
 * baseline's messages/s (target >= 0.5), and the ratio 10,000 / 10.
 */
import { randomUUID } from "node:crypto";
import { SYSTEM_EVENT_TYPES } from "../src/okta/event-types";
import { parseCli, printedHelp, runCli } from "../tools/cli/args";
import { positiveInt } from "./lib/args";
import {
  type Baseline,
  type BaselineResult,
  describeBaselines,
  measureBaselines,
  ratioRow,
  startBaselines,
  summariseBaselines,
  THROUGHPUT_TARGET,
} from "./lib/baseline";
import { type ProfileStats, profileTable, readProfile } from "./lib/profile";
import {
  benchWorkerOptions,
  count,
  createWorkflows,
  deliveries,
  describeSource,
  event,
  median,
  pollUntil,
  postDeliveries,
  type Receiver,
  startProject,
  startReceiver,
} from "./lib/project";
import { fixed, machine, table, writeResults } from "./lib/report";
import { runCounter } from "./lib/runs";
import { ROOT, type RunningWorker, runtimeDescription, tempDir } from "./lib/runtime";

const HELP = `Usage: npm run bench:consumer [-- --quick] [-- --events M] [-- --repeats R] [-- --workflows N]
                              [-- --profile] [-- --rev REV]

Consumer throughput (events/s and runs/s, matched and run to completion with a no-op
http action) with 10 and with N (default 10,000) enabled workflows, of which the same
10 match, beside a minimal queue consumer (one D1 row + one fetch per message) measured
in the same rounds. Writes bench/results/consumer-*.json.

  --quick        M=50 events, 1 round (a smoke check, not a measurement)
  --events M     benchmark events per round (default 200, in deliveries of 50)
  --repeats R    rounds per case (default 3)
  --workflows N  enabled workflows in the large case (default 10000)
  --profile      run bench/workers/profiled.js (our Worker with timing around each D1
                 statement, WaitRoom call, queue send and fetch) and print where each
                 case's last round spent its time; the instrumentation costs a little
  --rev REV      measure commit REV (a git archive of it) instead of the working tree`;

const BENCH_TYPE = "system.api_token.create";
const MATCHING = 10;
const EVENTS_PER_DELIVERY = 50;
/** Deliveries in flight at once while posting a round's events. */
const POST_CONCURRENCY = 2;
/** Concurrent POST /api/workflows while creating the workflows. */
const CREATE_CONCURRENCY = 4;
const WARMUP_EVENTS = 20;
const ROUND_TIMEOUT_MS = 15 * 60_000;

interface Round {
  round: number;
  events: number;
  runs: number;
  /** First POST to the last run's action request at the receiver. */
  seconds: number;
  eventsPerSecond: number;
  runsPerSecond: number;
  /** First POST to the last POST answered (ingress). */
  postSeconds: number;
  /** Requests the receiver got in this round (one per run). */
  actionRequests: number;
  failedRuns: number;
}

function noopAction(receiver: Receiver) {
  return {
    noop: {
      kind: "action",
      action: { type: "http", method: "POST", url: `${receiver.url}/noop/{{ trigger.id }}`, retries: 0 },
      next: null,
    },
  };
}

/** The 10 workflows every benchmark event starts. */
function matchingWorkflows(receiver: Receiver) {
  return Array.from({ length: MATCHING }, (_, i) => ({
    name: `bench match ${i + 1}`,
    trigger: { eventTypes: [BENCH_TYPE], filter: { field: "id", op: "startsWith", value: "bench-" } },
    start: "noop",
    nodes: noopAction(receiver),
  }));
}

/** Enabled workflows that no benchmark event starts: every type is covered, every filter fails. */
function otherWorkflows(receiver: Receiver, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `bench other ${i + 1}`,
    trigger: {
      eventTypes: i % 7 === 6 ? [] : [SYSTEM_EVENT_TYPES[i % SYSTEM_EVENT_TYPES.length]],
      filter: { field: "id", op: "eq", value: randomUUID() },
    },
    start: "noop",
    nodes: noopAction(receiver),
  }));
}

interface Case {
  id: string;
  label: string;
  workflows: number;
  worker: RunningWorker;
  rounds: Round[];
}

async function main(argv: string[]) {
  const { values } = parseCli(argv, {
    quick: { type: "boolean" },
    events: { type: "string" },
    repeats: { type: "string" },
    workflows: { type: "string" },
    profile: { type: "boolean" },
    rev: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const quick = values.quick ?? false;
  const settings = {
    quick,
    events: positiveInt(values.events, quick ? 50 : 200, "events"),
    repeats: positiveInt(values.repeats, quick ? 1 : 3, "repeats"),
    largeWorkflows: positiveInt(values.workflows, 10_000, "workflows"),
    matchingWorkflows: MATCHING,
    eventsPerDelivery: EVENTS_PER_DELIVERY,
    postConcurrency: POST_CONCURRENCY,
    warmupEvents: WARMUP_EVENTS,
    profile: values.profile ?? false,
    rev: values.rev,
    queue: {} as object,
  };
  if (settings.largeWorkflows < MATCHING) throw new Error(`--workflows must be at least ${MATCHING}`);

  const host = machine();
  console.log(`Runtime: ${runtimeDescription()}, one workerd per Worker, storage in a temp folder.`);
  console.log(
    "  Why: as for the ingress benchmark, wrangler dev would put its own Node process and a second workerd\n" +
      "  on every request; Miniflare runs the same workerd with the same D1, Queues and Durable Objects.",
  );
  console.log(
    `Machine: ${host.cores} cores (${host.cpu}), ${host.memoryGb} GB, Node ${host.node}, load ${host.loadAverage.join(" ")}`,
  );

  const build = await tempDir("bench-build-");
  const cases: Case[] = [];
  let baselines: Baseline[] = [];
  let receiver: Receiver | undefined;
  const stopAll = async () => {
    await Promise.allSettled([...cases.map((c) => c.worker.stop()), ...baselines.map((b) => b.stop())]);
    await receiver?.close();
    await build.remove();
  };
  process.once("SIGINT", () => {
    void stopAll().finally(() => process.exit(130));
  });

  try {
    const config = await benchWorkerOptions(build.path, { profile: settings.profile, rev: settings.rev });
    const source = config.source;
    console.log(`Code: ${describeSource(source, settings.rev)}.`);
    const { consumer } = config;
    settings.queue = consumer;
    console.log(
      `Queue consumer: ${JSON.stringify(consumer)} (max_batch_timeout 0 instead of wrangler.toml's 1: the local\n` +
        "  queue otherwise waits the batching window before every partial batch; batch size as in wrangler.toml).\n" +
        "  Cron off. The local queue hands the consumer one batch at a time.",
    );
    console.log(
      `Settings: ${settings.events} events per round in deliveries of ${EVENTS_PER_DELIVERY} (${POST_CONCURRENCY} in flight), ` +
        `${settings.repeats} round(s) per case, ${MATCHING} matching workflows, ` +
        `${settings.largeWorkflows} enabled in the large case; warm-up ${WARMUP_EVENTS} events per Worker.`,
    );
    receiver = await startReceiver();
    console.log(`No-op action: http POST ${receiver.url}/noop/<asset> (node:http, answers 204 at once).`);
    baselines = await startBaselines(receiver, config.options.compatibilityDate);
    console.log(
      `Baseline: bench/workers/queue-baseline.js, ${baselines.length} modes, each ${settings.events * MATCHING} messages ` +
        "per round (as many as our runs), batches of 100, max_batch_timeout 0, same receiver.\n",
    );

    let started = performance.now();
    process.stdout.write("Starting two instances of our Worker... ");
    const small = await startProject("consumer-10", config);
    cases.push({ id: "10", label: `${MATCHING} workflows`, workflows: MATCHING, worker: small, rounds: [] });
    const large = await startProject("consumer-large", config);
    cases.push({
      id: String(settings.largeWorkflows),
      label: `${settings.largeWorkflows.toLocaleString("en")} workflows`,
      workflows: settings.largeWorkflows,
      worker: large,
      rounds: [],
    });
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);

    started = performance.now();
    await createWorkflows(small, matchingWorkflows(receiver), CREATE_CONCURRENCY);
    await createWorkflows(large, matchingWorkflows(receiver), CREATE_CONCURRENCY);
    process.stdout.write(
      `Creating ${settings.largeWorkflows - MATCHING} non-matching workflows through POST /api/workflows (${CREATE_CONCURRENCY} at a time)... `,
    );
    await createWorkflows(large, otherWorkflows(receiver, settings.largeWorkflows - MATCHING), CREATE_CONCURRENCY);
    const createSeconds = (performance.now() - started) / 1000;
    // The trigger index is the engine's own table: reported when it is there, not relied on.
    const largeDb = await large.db();
    const triggerIndex = await Promise.all([
      count(largeDb, "select count(*) as n from workflow_triggers"),
      count(largeDb, "select count(*) as n from workflow_triggers where event_type = ?", BENCH_TYPE),
    ]).catch(() => undefined);
    const [triggerRows, candidates] = triggerIndex ?? [undefined, undefined];
    console.log(
      `${createSeconds.toFixed(1)} s (${fixed((settings.largeWorkflows - MATCHING) / createSeconds, 0)}/s)` +
        (triggerIndex ? `; trigger index: ${triggerRows} rows, ${candidates} candidates for ${BENCH_TYPE}` : ""),
    );

    // The first events after a start fill the isolate's definition cache (for the large
    // case, all ~2,100 candidates' definitions: read from D1 and validated): not measured.
    process.stdout.write(`Warm-up, ${WARMUP_EVENTS} events per Worker, cold caches (not in the results)... `);
    const warmup: Record<string, number> = {};
    for (const c of cases) {
      warmup[c.id] = (await measureRound(c.worker, receiver, `warm-${c.id}`, WARMUP_EVENTS)).seconds;
    }
    console.log(cases.map((c) => `${c.label} ${fixed(warmup[c.id] ?? Number.NaN)} s`).join(", "), "\n");
    const profiles: Record<string, ProfileStats> = {};
    const baselineRounds: BaselineResult[][] = [];

    for (let round = 1; round <= settings.repeats; round++) {
      // The baseline first on odd rounds, last on even ones.
      const measureBaseline = async () => {
        const results = await measureBaselines(baselines, settings.events * MATCHING, ROUND_TIMEOUT_MS);
        baselineRounds.push(results);
        console.log(`  round ${round}  ${describeBaselines(results)} (messages/s)`);
      };
      if (round % 2 === 1) await measureBaseline();
      // Alternate which case goes first, so a drift in machine load does not favour one.
      const order = round % 2 === 1 ? cases : [...cases].reverse();
      for (const c of order) {
        if (settings.profile) await readProfile(c.worker, true);
        const result = { round, ...(await measureRound(c.worker, receiver, `${c.id}-${round}`, settings.events)) };
        if (settings.profile) profiles[c.id] = await readProfile(c.worker, true);
        c.rounds.push(result);
        console.log(
          `  round ${round}  ${c.label.padEnd(16)} ${fixed(result.eventsPerSecond).padStart(6)} events/s  ` +
            `${fixed(result.runsPerSecond).padStart(7)} runs/s  (${fixed(result.seconds)} s; posted in ${fixed(result.postSeconds)} s)` +
            (result.failedRuns ? `  FAILED RUNS ${result.failedRuns}` : ""),
        );
      }
      if (round % 2 === 0) await measureBaseline();
    }

    const summary = cases.map((c) => ({
      id: c.id,
      label: c.label,
      workflows: c.workflows,
      eventsPerSecond: median(c.rounds.map((r) => r.eventsPerSecond)),
      runsPerSecond: median(c.rounds.map((r) => r.runsPerSecond)),
      seconds: median(c.rounds.map((r) => r.seconds)),
      failedRuns: c.rounds.reduce((sum, r) => sum + r.failedRuns, 0),
      rounds: c.rounds,
    }));
    const [few, many] = summary as [(typeof summary)[0], (typeof summary)[0]];
    const ratio = many.eventsPerSecond / few.eventsPerSecond;
    const baselineSummary = summariseBaselines(baselineRounds);
    const reference = baselineSummary[0] as (typeof baselineSummary)[0];
    const ratios = {
      small: few.runsPerSecond / reference.perSecond,
      large: many.runsPerSecond / reference.perSecond,
    };

    console.log(
      settings.repeats === 1
        ? "\nOne round per case (a smoke check; use the default 3 rounds for numbers):\n"
        : `\nMedians of ${settings.repeats} rounds:\n`,
    );
    console.log(
      table(
        ["case", "runs/s", "events/s", "seconds", "failed runs", "runs/s per round"],
        [
          ...summary.map((s) => [
            `ours, ${s.label}`,
            fixed(s.runsPerSecond),
            fixed(s.eventsPerSecond),
            fixed(s.seconds),
            s.failedRuns,
            s.rounds.map((r) => fixed(r.runsPerSecond)).join(" "),
          ]),
          ...baselineSummary.map((b) => [
            b.label,
            fixed(b.perSecond),
            "",
            fixed(b.seconds),
            "",
            b.rounds.map((r) => fixed(r)).join(" "),
          ]),
        ],
      ),
    );
    console.log("");
    console.log(
      table(
        ["ratio", "value", "target", "result"],
        [
          ratioRow(`triggered one-action runs/s, ours (${few.label}) / baseline`, ratios.small, "consumer runs/s"),
          ratioRow(`triggered one-action runs/s, ours (${many.label}) / baseline`, ratios.large, "consumer runs/s"),
          ratioRow(`events/s ${many.label} / ${few.label}`, ratio, "consumer workflows scale", 0.5),
        ],
      ),
    );
    console.log(
      `\n"baseline" is the first baseline row (one D1 statement + one fetch per message, in turn); the target is >= ${THROUGHPUT_TARGET}.`,
    );
    for (const c of settings.profile ? cases : []) {
      const last = c.rounds.at(-1) as Round;
      console.log(
        `\nProfile, ${c.label}, round ${last.round} (${last.events} events, ${last.runs} runs, ${fixed(last.seconds)} s; ` +
          "per run = total / runs; nested rows are included in their callers):\n",
      );
      console.log(profileTable(profiles[c.id] ?? {}, last.runs, "run"));
    }
    const file = await writeResults("consumer", {
      benchmark: "consumer",
      date: new Date().toISOString(),
      source,
      runtime: runtimeDescription(),
      machine: host,
      loadAverageAtEnd: machine().loadAverage,
      settings,
      setup: { createSeconds, triggerRows, candidatesForBenchType: candidates, warmupSeconds: warmup },
      cases: summary,
      baselines: baselineSummary,
      ratios: [
        {
          name: "runs/s small / baseline",
          value: ratios.small,
          target: `>= ${THROUGHPUT_TARGET}`,
          pass: ratios.small >= THROUGHPUT_TARGET,
        },
        {
          name: "runs/s large / baseline",
          value: ratios.large,
          target: `>= ${THROUGHPUT_TARGET}`,
          pass: ratios.large >= THROUGHPUT_TARGET,
        },
        { name: "events/s large / small", value: ratio, target: ">= 0.5", pass: ratio >= 0.5 },
      ],
      ...(settings.profile ? { profiles } : {}),
    });
    console.log(`\nResults: ${file.replace(ROOT, "")}`);
  } finally {
    await stopAll();
  }
}

/**
 * Posts `events` fresh benchmark events and waits until the receiver has had all their
 * runs' (x10) action requests, then until those runs are completed or failed.
 */
async function measureRound(
  worker: RunningWorker,
  receiver: Receiver,
  tag: string,
  events: number,
): Promise<Omit<Round, "round">> {
  const runsOf = await runCounter(worker);
  const bodies = deliveries(
    Array.from({ length: events }, (_, i) => event(BENCH_TYPE, `bench-${tag}-${i}`)),
    EVENTS_PER_DELIVERY,
  );
  const runs = events * MATCHING;
  const endedBefore = await runsOf.count(["completed", "failed"]);
  const failedBefore = await runsOf.count(["failed"]);
  const requestsBefore = receiver.count();

  const actions = receiver.reached(`/noop/bench-${tag}-`, runs, ROUND_TIMEOUT_MS);
  const t0 = performance.now();
  await postDeliveries(worker, bodies, POST_CONCURRENCY);
  const posted = performance.now();
  const lastAction = await actions;
  await pollUntil(() => runsOf.count(["completed", "failed"]), endedBefore + runs, {
    intervalMs: 100,
    timeoutMs: ROUND_TIMEOUT_MS,
    describe: async () => `runs ${JSON.stringify(await runsOf.statuses())}, expected ${endedBefore + runs} ended`,
  });
  const seconds = (lastAction - t0) / 1000;
  return {
    events,
    runs,
    seconds,
    eventsPerSecond: events / seconds,
    runsPerSecond: runs / seconds,
    postSeconds: (posted - t0) / 1000,
    actionRequests: receiver.count() - requestsBefore,
    failedRuns: (await runsOf.count(["failed"])) - failedBefore,
  };
}

runCli(HELP, main);
