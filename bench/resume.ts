/**
 * `npm run bench:resume` (also `-- --quick`): the resume path of event nodes.
 *
 * (a) Latency. Workflow "resume": on system.import.start (asset `lat-r-…`), wait for
 *     system.import.complete on the same asset, then http POST to a local receiver.
 *     Per sample: post a start on a fresh asset, wait until GET /api/runs shows its
 *     run waiting (plus SETTLE_MS, so the consumer is done with it), then t0, post the
 *     complete, t1 when the receiver gets the action's request. Baseline, sampled alternately in the same Worker: workflow
 *     "direct", whose first node is the same http action, started by a
 *     system.import.complete on an asset `lat-d-…`: t0 at its POST, t1 at the
 *     receiver. Both paths cross the queue twice (event, then run or resume); the
 *     ratio is what the WaitRoom adds over a plain trigger -> action path.
 *
 * (b) Throughput. N runs of "on start, wait for complete, then http POST" paused on 1
 *     asset, and M paused on M assets (each case in a fresh Worker): pausing delivers
 *     the starts in deliveries of 100 and waits until all runs are waiting (pauses/s);
 *     then 1 complete (1 asset) or M completes, one per asset, in deliveries of 100,
 *     and the time from the first POST to the last action request at the receiver
 *     gives resumes/s. Each repetition also measures the minimal queue consumer
 *     (bench/workers/queue-baseline.js: one D1 row and one fetch per message) with N
 *     messages; pauses/s and resumes/s on 1 asset are reported over it (targets: resumes >= 1.0, pauses >= 0.5).
 */
import { parseCli, printedHelp, runCli, UsageError } from "../tools/cli/args";
import { positiveInt } from "./lib/args";
import {
  type Baseline,
  type BaselineResult,
  describeBaselines,
  measureBaselines,
  P99_TARGET_MS,
  ratioRow,
  startBaselines,
  summariseBaselines,
  THROUGHPUT_TARGET,
} from "./lib/baseline";
import { verdict } from "./lib/known-misses";
import { percentile } from "./lib/load";
import { type ProfileStats, profileTable, readProfile } from "./lib/profile";
import {
  api,
  type BenchWorkerConfig,
  benchWorkerOptions,
  createWorkflows,
  deliveries,
  describeSource,
  event,
  median,
  pollUntil,
  postDeliveries,
  postDelivery,
  type Receiver,
  sleep,
  startProject,
  startReceiver,
} from "./lib/project";
import { fixed, machine, table, writeResults } from "./lib/report";
import { runCounter } from "./lib/runs";
import { ROOT, type RunningWorker, runtimeDescription, tempDir } from "./lib/runtime";

const HELP = `Usage: npm run bench:resume [-- --quick] [-- --samples S] [-- --runs N] [-- --spread M]
                            [-- --repeats R] [-- --only latency|throughput] [-- --profile] [-- --rev REV]

(a) latency from an event's POST to the http action of the run it resumes, and of the
    run it starts (p50/p99, target p99 < ${P99_TARGET_MS} ms);
(b) pauses/s and resumes/s with N runs paused on 1 asset, and with M runs paused on M
    assets, beside a minimal queue consumer (1 D1 row + 1 fetch per message) measured
    with N messages in the same repetitions (targets: resumes / baseline >= ${THROUGHPUT_TARGET}, pauses >= 0.5).
Writes bench/results/resume-*.json.

  --quick        S=10 samples, N=500, M=200, 1 repetition (a smoke check)
  --samples S    latency samples per path (default 50, after 3 warm-up samples)
  --runs N       runs paused on one asset (default 10000)
  --spread M     runs paused on M assets, one each (default 1000; 0 skips the case)
  --repeats R    repetitions of each throughput case, each in a fresh Worker (default 3)
  --only X       run only part (a) "latency" or part (b) "throughput"
  --profile      run bench/workers/profiled.js (our Worker with timing around each D1
                 statement, WaitRoom call, queue send and fetch) and print where (b)'s
                 pausing and resuming spent their time; the instrumentation costs a little
  --rev REV      measure commit REV (a git archive of it) instead of the working tree`;

const START = "system.import.start";
const COMPLETE = "system.import.complete";
const WARMUP_SAMPLES = 3;
const DELIVERY_SIZE = 100;
const POST_CONCURRENCY = 2;
const SAMPLE_TIMEOUT_MS = 30_000;
/** A throughput phase (pausing or resuming) that takes longer than this fails the benchmark. */
const PHASE_TIMEOUT_MS = 20 * 60_000;
/** After the API shows a run waiting, the time given the consumer to finish with it before the awaited event. */
const SETTLE_MS = 100;

function waitThenAct(name: string, trigger: object, url: string) {
  return {
    name,
    trigger,
    start: "waitComplete",
    nodes: {
      waitComplete: { kind: "event", eventTypes: [COMPLETE], timeoutSeconds: 86_400, next: "notify" },
      notify: { kind: "action", action: { type: "http", method: "POST", url, retries: 0 }, next: null },
    },
  };
}

interface LatencyResult {
  samples: number;
  resume: { p50: number; p99: number; mean: number; all: number[] };
  direct: { p50: number; p99: number; mean: number; all: number[] };
  ratioP50: number;
  ratioP99: number;
}

interface ThroughputRun {
  repetition: number;
  assets: number;
  runs: number;
  /** First start's POST until every run is waiting. */
  setupSeconds: number;
  pausesPerSecond: number;
  /** First resuming POST to the last action request at the receiver. */
  seconds: number;
  resumesPerSecond: number;
  failedRuns: number;
  /** With --profile: where pausing (setup) and resuming spent their time. */
  profile?: { setup: ProfileStats; resume: ProfileStats };
}

async function main(argv: string[]) {
  const { values } = parseCli(argv, {
    quick: { type: "boolean" },
    samples: { type: "string" },
    runs: { type: "string" },
    spread: { type: "string" },
    repeats: { type: "string" },
    only: { type: "string" },
    profile: { type: "boolean" },
    rev: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const quick = values.quick ?? false;
  if (values.only !== undefined && values.only !== "latency" && values.only !== "throughput") {
    throw new UsageError(`--only must be latency or throughput (got "${values.only}")`);
  }
  const settings = {
    quick,
    samples: positiveInt(values.samples, quick ? 10 : 50, "samples"),
    warmupSamples: WARMUP_SAMPLES,
    runs: positiveInt(values.runs, quick ? 500 : 10_000, "runs"),
    spread: values.spread === "0" ? 0 : positiveInt(values.spread, quick ? 200 : 1000, "spread"),
    repeats: positiveInt(values.repeats, quick ? 1 : 3, "repeats"),
    deliverySize: DELIVERY_SIZE,
    postConcurrency: POST_CONCURRENCY,
    parts: values.only ? [values.only] : ["latency", "throughput"],
    profile: values.profile ?? false,
    rev: values.rev,
    queue: {} as object,
  };

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
  const workers = new Set<RunningWorker>();
  let baselines: Baseline[] = [];
  let receiver: Receiver | undefined;
  const stopAll = async () => {
    await Promise.allSettled([...[...workers].map((w) => w.stop()), ...baselines.map((b) => b.stop())]);
    await receiver?.close();
    await build.remove();
  };
  process.once("SIGINT", () => {
    void stopAll().finally(() => process.exit(130));
  });
  const start = async (name: string, config: BenchWorkerConfig) => {
    const worker = await startProject(name, config);
    workers.add(worker);
    return worker;
  };
  const stop = async (worker: RunningWorker) => {
    workers.delete(worker);
    await worker.stop();
  };

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
    receiver = await startReceiver();
    console.log(`Action: http POST to ${receiver.url} (node:http, answers 204 at once).`);
    const parts = [
      settings.parts.includes("latency")
        ? `(a) ${settings.samples} samples per path after ${WARMUP_SAMPLES} warm-up`
        : "",
      settings.parts.includes("throughput")
        ? `(b) ${settings.runs} runs paused on 1 asset` +
          (settings.spread ? `, ${settings.spread} on ${settings.spread} assets` : "") +
          `, deliveries of ${DELIVERY_SIZE} (${POST_CONCURRENCY} in flight), ${settings.repeats} repetition(s), ` +
          `baseline ${settings.runs} messages per repetition`
        : "",
    ];
    console.log(`Settings: ${parts.filter(Boolean).join("; ")}.\n`);

    let latency: LatencyResult | undefined;
    if (settings.parts.includes("latency")) {
      const worker = await start("resume-latency", config);
      latency = await measureLatency(worker, receiver, settings.samples);
      await stop(worker);
    }

    const throughput: ThroughputRun[] = [];
    const baselineRounds: BaselineResult[][] = [];
    if (settings.parts.includes("throughput")) {
      console.log("(b) Pause and resume throughput");
      baselines = await startBaselines(receiver, config.options.compatibilityDate);
      const caseList = [
        { runs: settings.runs, assets: 1 },
        ...(settings.spread ? [{ runs: settings.spread, assets: settings.spread }] : []),
      ];
      for (let repetition = 1; repetition <= settings.repeats; repetition++) {
        // Alternate the order, baseline included, so a drift in machine load favours no case.
        const measureBaseline = async () => {
          const results = await measureBaselines(baselines, settings.runs, PHASE_TIMEOUT_MS);
          baselineRounds.push(results);
          console.log(`  rep ${repetition}  ${describeBaselines(results)} (messages/s, ${settings.runs} messages)`);
        };
        if (repetition % 2 === 1) await measureBaseline();
        for (const c of repetition % 2 === 1 ? caseList : [...caseList].reverse()) {
          const worker = await start(`resume-${c.assets}`, config);
          const result = await measureThroughput(worker, receiver, c.runs, c.assets, repetition, settings.profile);
          await stop(worker);
          throughput.push(result);
        }
        if (repetition % 2 === 0) await measureBaseline();
      }
    }

    console.log("\nSummary");
    if (latency) {
      console.log(
        `\n(a) Latency, POST of the event to the action's request at the receiver, ${latency.samples} samples per path:\n`,
      );
      const p99Verdict = (p99: number) => verdict(p99 < P99_TARGET_MS, "resume p99");
      console.log(
        table(
          ["path", "p50 ms", "p99 ms", "mean ms", `p99 < ${P99_TARGET_MS} ms`],
          [
            ["event-to-resume: complete -> resumed run's action", latency.resume],
            ["event-to-action: complete -> started run's action", latency.direct],
          ].map(([label, s]) => {
            const stats = s as LatencyResult["resume"];
            return [label as string, fixed(stats.p50), fixed(stats.p99), fixed(stats.mean), p99Verdict(stats.p99)];
          }),
        ),
      );
      console.log(
        `\nratio resume / start: p50 ${fixed(latency.ratioP50, 2)}, p99 ${fixed(latency.ratioP99, 2)}` +
          ` (what the resume path adds: p50 ${fixed(latency.resume.p50 - latency.direct.p50)} ms)`,
      );
    }
    let throughputSummary: ReturnType<typeof summarise> | undefined;
    let baselineSummary: ReturnType<typeof summariseBaselines> | undefined;
    if (throughput.length > 0) {
      throughputSummary = summarise(throughput);
      baselineSummary = summariseBaselines(baselineRounds);
      const reference = baselineSummary[0] as (typeof baselineSummary)[0];
      console.log(
        "\n(b) Pause and resume throughput, " +
          (settings.repeats === 1 ? "one repetition (no median):\n" : `medians of ${settings.repeats} repetitions:\n`),
      );
      console.log(
        table(
          [
            "case",
            "pausing s",
            "pauses/s",
            "resuming s",
            "resumes/s",
            "failed",
            "pauses/s per rep.",
            "resumes/s per rep.",
          ],
          throughputSummary.cases.map((c) => [
            c.label,
            fixed(c.setupSeconds),
            fixed(c.pausesPerSecond),
            fixed(c.seconds),
            fixed(c.resumesPerSecond),
            c.failedRuns,
            c.runs.map((r) => fixed(r.pausesPerSecond)).join(" "),
            c.runs.map((r) => fixed(r.resumesPerSecond)).join(" "),
          ]),
        ),
      );
      console.log("");
      console.log(
        table(
          ["baseline", "messages", "messages/s", "per rep."],
          baselineSummary.map((b) => [
            b.label,
            b.messages,
            fixed(b.perSecond),
            b.rounds.map((r) => fixed(r)).join(" "),
          ]),
        ),
      );
      const hot = throughputSummary.cases[0] as (typeof throughputSummary.cases)[0];
      const spread = throughputSummary.cases[1];
      throughputSummary.ratios = {
        resumes: hot.resumesPerSecond / reference.perSecond,
        pauses: hot.pausesPerSecond / reference.perSecond,
        ...(spread ? { hotOverSpread: hot.resumesPerSecond / spread.resumesPerSecond } : {}),
      };
      console.log("");
      console.log(
        table(
          ["ratio", "value", "target", "result"],
          [
            ratioRow(`resumes/s, ${hot.label} / baseline`, throughputSummary.ratios.resumes, "resume resumes/s"),
            ratioRow(`pauses/s, ${hot.label} / baseline`, throughputSummary.ratios.pauses, "resume pauses/s", 0.5),
            ...(spread
              ? [
                  [
                    `resumes/s, ${hot.label} / ${spread.label}`,
                    fixed(hot.resumesPerSecond / spread.resumesPerSecond, 2),
                    "",
                    "for reference",
                  ],
                ]
              : []),
          ],
        ),
      );
      console.log(
        `\n"baseline" is the first baseline row (one D1 statement + one fetch per message, in turn), ${reference.messages} messages.`,
      );
      for (const c of settings.profile ? throughputSummary.cases : []) {
        const last = c.runs.at(-1);
        if (!last?.profile) continue;
        console.log(
          `\nProfile, ${c.label}, repetition ${last.repetition}: pausing (setup, ${fixed(last.setupSeconds)} s)\n`,
        );
        console.log(profileTable(last.profile.setup, last.runs, "run"));
        console.log(`\nProfile, ${c.label}, repetition ${last.repetition}: resuming (${fixed(last.seconds)} s)\n`);
        console.log(profileTable(last.profile.resume, last.runs, "run"));
      }
    }

    const file = await writeResults("resume", {
      benchmark: "resume",
      date: new Date().toISOString(),
      source,
      runtime: runtimeDescription(),
      machine: host,
      loadAverageAtEnd: machine().loadAverage,
      settings,
      latency,
      throughput: throughputSummary,
      baselines: baselineSummary,
    });
    console.log(`\nResults: ${file.replace(ROOT, "")}`);
  } finally {
    await stopAll();
  }
}

function summarise(runs: ThroughputRun[]) {
  const keys = [...new Set(runs.map((r) => r.assets))];
  const cases = keys.map((assets) => {
    const list = runs.filter((r) => r.assets === assets);
    const med = (pick: (r: ThroughputRun) => number) => median(list.map(pick));
    const n = list[0]?.runs ?? 0;
    return {
      label: `${n} runs on ${assets} asset${assets === 1 ? "" : "s"}`,
      assets,
      setupSeconds: med((r) => r.setupSeconds),
      pausesPerSecond: med((r) => r.pausesPerSecond),
      seconds: med((r) => r.seconds),
      resumesPerSecond: med((r) => r.resumesPerSecond),
      failedRuns: list.reduce((sum, r) => sum + r.failedRuns, 0),
      runs: list,
    };
  });
  return { cases, ratios: {} as Record<string, number> };
}

const oneDelivery = (e: Record<string, unknown>) => deliveries([e], 1)[0] as string;

/** Polls GET /api/runs?id=<asset> until the asset's one run has `status`. */
async function runReaches(worker: RunningWorker, assetId: string, status: string): Promise<void> {
  let last = "none";
  const probe = async () => {
    const page = (await api(worker, "GET", `/api/runs?id=${encodeURIComponent(assetId)}`)) as {
      runs: { status: string }[];
    };
    last = page.runs.map((r) => r.status).join(",") || "none";
    return page.runs.length === 1 && page.runs[0]?.status === status ? 1 : 0;
  };
  await pollUntil(probe, 1, {
    intervalMs: 10,
    timeoutMs: SAMPLE_TIMEOUT_MS,
    describe: async () => `run on ${assetId} did not become ${status} (last seen: ${last})`,
  });
}

async function measureLatency(worker: RunningWorker, receiver: Receiver, samples: number): Promise<LatencyResult> {
  await createWorkflows(
    worker,
    [
      waitThenAct(
        "bench resume",
        { eventTypes: [START], filter: { field: "id", op: "startsWith", value: "lat-r-" } },
        `${receiver.url}/resume/{{ trigger.id }}`,
      ),
      {
        name: "bench direct",
        trigger: { eventTypes: [COMPLETE], filter: { field: "id", op: "startsWith", value: "lat-d-" } },
        start: "notify",
        nodes: {
          notify: {
            kind: "action",
            action: { type: "http", method: "POST", url: `${receiver.url}/direct/{{ trigger.id }}`, retries: 0 },
            next: null,
          },
        },
      },
    ],
    1,
  );

  const resumeSample = async (i: number) => {
    const asset = `lat-r-${i}`;
    await postDelivery(worker, oneDelivery(event(START, asset)));
    await runReaches(worker, asset, "waiting");
    await sleep(SETTLE_MS);
    const body = oneDelivery(event(COMPLETE, asset));
    const t0 = performance.now();
    await postDelivery(worker, body);
    const t1 = await receiver.arrival(`/resume/${asset}`, SAMPLE_TIMEOUT_MS);
    await runReaches(worker, asset, "completed");
    return t1 - t0;
  };
  const directSample = async (i: number) => {
    const asset = `lat-d-${i}`;
    const body = oneDelivery(event(COMPLETE, asset));
    const t0 = performance.now();
    await postDelivery(worker, body);
    const t1 = await receiver.arrival(`/direct/${asset}`, SAMPLE_TIMEOUT_MS);
    await runReaches(worker, asset, "completed");
    return t1 - t0;
  };

  const resume: number[] = [];
  const direct: number[] = [];
  process.stdout.write(`(a) Latency: ${WARMUP_SAMPLES} warm-up + ${samples} samples per path, alternating... `);
  for (let i = -WARMUP_SAMPLES; i < samples; i++) {
    const id = i + WARMUP_SAMPLES;
    // Alternate which path goes first.
    const pair =
      i % 2 === 0
        ? [await resumeSample(id), await directSample(id)]
        : [await directSample(id), await resumeSample(id)].reverse();
    if (i >= 0) {
      resume.push(pair[0] as number);
      direct.push(pair[1] as number);
    }
  }
  const stats = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      mean: values.reduce((s, v) => s + v, 0) / values.length,
      all: values.map((v) => Math.round(v * 10) / 10),
    };
  };
  const result = { samples, resume: stats(resume), direct: stats(direct), ratioP50: 0, ratioP99: 0 };
  result.ratioP50 = result.resume.p50 / result.direct.p50;
  result.ratioP99 = result.resume.p99 / result.direct.p99;
  console.log(
    `resume p50 ${fixed(result.resume.p50)} ms, p99 ${fixed(result.resume.p99)} ms; ` +
      `baseline p50 ${fixed(result.direct.p50)} ms, p99 ${fixed(result.direct.p99)} ms\n`,
  );
  return result;
}

async function measureThroughput(
  worker: RunningWorker,
  receiver: Receiver,
  runs: number,
  assets: number,
  repetition: number,
  profile: boolean,
): Promise<ThroughputRun> {
  const runsOf = await runCounter(worker);
  const tag = `rep${repetition}-${assets}`;
  await createWorkflows(
    worker,
    [waitThenAct("bench resume throughput", { eventTypes: [START] }, `${receiver.url}/b/${tag}`)],
    1,
  );
  const assetOf = (i: number) => (assets === 1 ? "hot-asset" : `asset-${i}`);
  const label = `  rep ${repetition}  ${runs} runs on ${assets} asset${assets === 1 ? "" : "s"}`;
  const describe = async () => `runs ${JSON.stringify(await runsOf.statuses())}`;

  process.stdout.write(`${label}: pausing... `);
  const starts = deliveries(
    Array.from({ length: runs }, (_, i) => event(START, assetOf(i % assets))),
    DELIVERY_SIZE,
  );
  if (profile) await readProfile(worker, true);
  let t0 = performance.now();
  await postDeliveries(worker, starts, POST_CONCURRENCY);
  const paused = await pollUntil(() => runsOf.count(["waiting"]), runs, {
    intervalMs: 200,
    timeoutMs: PHASE_TIMEOUT_MS,
    describe,
  });
  const setupSeconds = (paused - t0) / 1000;
  const setupProfile = profile ? await readProfile(worker, true) : undefined;
  process.stdout.write(`${fixed(setupSeconds)} s (${fixed(runs / setupSeconds)} pauses/s); resuming... `);

  const completes = deliveries(
    Array.from({ length: assets }, (_, i) => event(COMPLETE, assetOf(i))),
    DELIVERY_SIZE,
  );
  const requestsBefore = receiver.count();
  const actions = receiver.reached(`/b/${tag}`, runs, PHASE_TIMEOUT_MS);
  t0 = performance.now();
  await postDeliveries(worker, completes, POST_CONCURRENCY);
  const seconds = ((await actions) - t0) / 1000;
  await pollUntil(() => runsOf.count(["completed", "failed"]), runs, {
    intervalMs: 100,
    timeoutMs: PHASE_TIMEOUT_MS,
    describe,
  });
  const failedRuns = await runsOf.count(["failed"]);
  const resumeProfile = profile ? await readProfile(worker, true) : undefined;
  const result: ThroughputRun = {
    repetition,
    assets,
    runs,
    setupSeconds,
    pausesPerSecond: runs / setupSeconds,
    seconds,
    resumesPerSecond: runs / seconds,
    failedRuns,
    ...(setupProfile && resumeProfile ? { profile: { setup: setupProfile, resume: resumeProfile } } : {}),
  };
  const requests = receiver.count() - requestsBefore;
  console.log(
    `${fixed(seconds)} s, ${fixed(result.resumesPerSecond)} resumes/s` +
      (failedRuns ? `  FAILED RUNS ${failedRuns}` : "") +
      (requests !== runs ? `  receiver got ${requests} requests for ${runs} runs` : ""),
  );
  return result;
}

runCli(HELP, main);
