/**
 * `npm run bench:count`: threshold triggers (counts over windows, docs/workflows.md).
 * One workflow counts `system.api_token.create` per asset, `count` 5 within 10 minutes,
 * and runs one no-op http action per window. Two cases, side by side in one Worker,
 * alternating round by round:
 *   - one key: every event of the round on one asset (one EventCounter takes them all);
 *   - 1,000 keys: the round's events round-robin over 1,000 assets (1,000 counters).
 * A round posts E events through POST /hooks/okta (deliveries of 50, 2 in flight) and
 * measures events/s (first POST to the last event recorded consumed in D1); then, at a
 * pace the consumer keeps up with (a window of 5 events every 50 ms, on the one key or
 * on fresh keys), event-to-alert: from the answer to the POST that completed a window
 * to its action's request at the receiver. Targets (issue 17): >= 1,000 events/s
 * in both cases, p99 event-to-alert < 150 ms. The minimal queue consumer
 * (bench/lib/baseline.ts) is measured in the same rounds with E messages, for scale.
 * Also printed: each EventCounter's SQLite file on disk, and what one keeps in memory.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseCli, printedHelp, runCli } from "../tools/cli/args";
import { positiveInt } from "./lib/args";
import {
  type Baseline,
  type BaselineResult,
  describeBaselines,
  measureBaselines,
  P99_TARGET_MS,
  startBaselines,
  summariseBaselines,
} from "./lib/baseline";
import { verdict } from "./lib/known-misses";
import { percentile } from "./lib/load";
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
  postDelivery,
  type Receiver,
  sleep,
  startProject,
  startReceiver,
} from "./lib/project";
import { fixed, machine, table, writeResults } from "./lib/report";
import { type RunningWorker, runtimeDescription, tempDir } from "./lib/runtime";

const HELP = `Usage: npm run bench:count [-- --quick] [-- --events E] [-- --repeats R] [-- --rev REV]

Threshold triggers: events/s and event-to-alert latency of a count trigger (5 events per
asset within 10 minutes, then one no-op http action) with every event on one key and with
the events spread over 1,000 keys, beside the minimal queue consumer measured in the same
rounds. Prints the storage of the counters. Writes bench/results/count-*.json.

  --quick        E=1000, 1 round (a smoke check, not a measurement)
  --events E     events per round and case (default 5000; a multiple of 5,000 keeps
                 every one of the 1,000 keys at whole windows)
  --repeats R    rounds per case (default 3)
  --rev REV      measure commit REV (a git archive of it) instead of the working tree`;

const EVENT_TYPE = "system.api_token.create";
const COUNT = 5;
const WITHIN_SECONDS = 600;
const KEYS = 1000;
const EVENTS_PER_DELIVERY = 50;
const POST_CONCURRENCY = 2;
const ROUND_TIMEOUT_MS = 10 * 60_000;
const TARGET_EVENTS_PER_SECOND = 1000;
/** Windows per latency phase, and the pause between their POSTs (20 windows/s = 100 events/s). */
const LATENCY_WINDOWS = 100;
const PACE_MS = 50;

interface Round {
  round: number;
  events: number;
  runs: number;
  seconds: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

interface Case {
  id: "one" | "many";
  label: string;
  keys: number;
  rounds: Round[];
}

function countingWorkflow(receiver: Receiver) {
  return {
    name: "bench count",
    trigger: {
      eventTypes: [EVENT_TYPE],
      filter: { field: "id", op: "startsWith", value: "count-" },
      threshold: { count: COUNT, withinSeconds: WITHIN_SECONDS, by: "id" },
    },
    start: "noop",
    nodes: {
      noop: {
        kind: "action",
        // The key and the window's last event name the request: each alert is matched to its
        // case, and no two share a path (the receiver keeps one arrival per path).
        action: {
          type: "http",
          method: "POST",
          url: `${receiver.url}/count/{{ count.key }}/{{ count.events[4].uuid }}`,
          retries: 0,
        },
        next: null,
      },
    },
  };
}

/** One round of one case: E events on `keys` assets, posted flat out; events/s from the first POST to the last consumed. */
async function measureThroughput(worker: RunningWorker, receiver: Receiver, tag: string, keys: number, events: number) {
  const db = await worker.db();
  const assets = Array.from({ length: keys }, (_, i) => `count-${tag}-${i}`);
  // A millisecond apart, in posting order: a window's events sort by published time, so
  // its fifth is the one that completed it (equal times would sort by uuid).
  const base = Date.now() - events;
  const list = Array.from({ length: events }, (_, i) =>
    event(EVENT_TYPE, assets[i % keys] as string, new Date(base + i)),
  );
  const windows = keys * Math.floor(events / keys / COUNT);
  const consumed = () =>
    count(db, "select count(*) as n from events where asset_id like ? and consumed_at is not null", `count-${tag}-%`);
  const started = performance.now();
  await postDeliveries(worker, deliveries(list, EVENTS_PER_DELIVERY), POST_CONCURRENCY);
  const consumedAt = await pollUntil(consumed, events, {
    intervalMs: 20,
    timeoutMs: ROUND_TIMEOUT_MS,
    describe: async () => `${await consumed()} of ${events} events consumed`,
  });
  await receiver.reached(`/count/count-${tag}-`, windows, ROUND_TIMEOUT_MS);
  const runs = await count(db, "select count(*) as n from runs where asset_id like ?", `count-${tag}-%`);
  if (runs !== windows) throw new Error(`${runs} runs for ${windows} windows in round ${tag}`);
  const seconds = (consumedAt - started) / 1000;
  return { events, runs, seconds, eventsPerSecond: events / seconds };
}

/**
 * Event-to-alert at a pace the consumer keeps up with (flat out, latency only measures the
 * backlog): one window (a delivery of 5 events on a fresh key) every PACE_MS, from the
 * POST's answer to its alert's request at the receiver.
 */
async function measureLatency(worker: RunningWorker, receiver: Receiver, tag: string, keys: number, windows: number) {
  const pending: Array<Promise<number>> = [];
  for (let w = 0; w < windows; w++) {
    // One key: every window on it (the nth alert is the nth window's); else a fresh key each.
    const asset = keys === 1 ? `count-${tag}` : `count-${tag}-${w}`;
    const base = Date.now() - COUNT;
    const body = deliveries(
      Array.from({ length: COUNT }, (_, i) => event(EVENT_TYPE, asset, new Date(base + i))),
      COUNT,
    )[0] as string;
    await postDelivery(worker, body);
    const answered = performance.now();
    const nth = keys === 1 ? w + 1 : 1;
    pending.push(receiver.reached(`/count/${asset}/`, nth, ROUND_TIMEOUT_MS).then((at) => at - answered));
    await sleep(PACE_MS);
  }
  const sorted = (await Promise.all(pending)).sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

/** The EventCounters' SQLite files under the Worker's storage: how many, and their sizes. */
async function counterFiles(storage: string): Promise<number[]> {
  const sizes: number[] = [];
  const walk = async (dir: string, inCounter: boolean): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path, inCounter || entry.name.includes("EventCounter"));
      else if (inCounter && entry.name.endsWith(".sqlite")) sizes.push((await stat(path)).size);
    }
  };
  await walk(storage, false);
  return sizes;
}

async function main(argv: string[]) {
  const { values } = parseCli(argv, {
    quick: { type: "boolean" },
    events: { type: "string" },
    repeats: { type: "string" },
    rev: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const quick = values.quick ?? false;
  const settings = {
    quick,
    events: positiveInt(values.events, quick ? 1000 : 5000, "events"),
    repeats: positiveInt(values.repeats, quick ? 1 : 3, "repeats"),
    rev: values.rev,
    count: COUNT,
    withinSeconds: WITHIN_SECONDS,
    keys: KEYS,
  };
  const host = machine();
  console.log(`Runtime: ${runtimeDescription()}, one workerd per Worker, storage in a temp folder.`);
  console.log(
    `Machine: ${host.cores} cores (${host.cpu}), ${host.memoryGb} GB, Node ${host.node}, load ${host.loadAverage.join(" ")}`,
  );
  const build = await tempDir("bench-build-");
  let worker: RunningWorker | undefined;
  let baselines: Baseline[] = [];
  let receiver: Receiver | undefined;
  try {
    const config = await benchWorkerOptions(build.path, { rev: settings.rev });
    console.log(`Code: ${describeSource(config.source, settings.rev)}.`);
    receiver = await startReceiver();
    baselines = await startBaselines(receiver, config.options.compatibilityDate);
    worker = await startProject("count", config);
    await createWorkflows(worker, [countingWorkflow(receiver)], 1);
    console.log(
      `Settings: ${settings.events} events per round and case in deliveries of ${EVENTS_PER_DELIVERY} (${POST_CONCURRENCY} in flight), ` +
        `${settings.repeats} round(s); threshold ${COUNT} within ${WITHIN_SECONDS} s by asset; baseline ${settings.events} messages.\n`,
    );
    process.stdout.write("Warm-up (not in the results)... ");
    await measureThroughput(worker, receiver, "warm", 10, 100);
    console.log("done\n");

    const cases: Case[] = [
      { id: "one", label: "1 key", keys: 1, rounds: [] },
      { id: "many", label: `${KEYS.toLocaleString("en")} keys`, keys: KEYS, rounds: [] },
    ];
    const baselineRounds: BaselineResult[][] = [];
    for (let round = 1; round <= settings.repeats; round++) {
      const measureBaseline = async () => {
        const results = await measureBaselines(baselines, settings.events, ROUND_TIMEOUT_MS);
        baselineRounds.push(results);
        console.log(`  round ${round}  ${describeBaselines(results)} (messages/s)`);
      };
      if (round % 2 === 1) await measureBaseline();
      for (const c of round % 2 === 1 ? cases : [...cases].reverse()) {
        const result = {
          round,
          ...(await measureThroughput(worker, receiver, `${c.id}${round}`, c.keys, settings.events)),
          ...(await measureLatency(worker, receiver, `lat-${c.id}${round}`, c.keys, LATENCY_WINDOWS)),
        };
        c.rounds.push(result);
        console.log(
          `  round ${round}  ${c.label.padEnd(10)} ${fixed(result.eventsPerSecond, 0).padStart(6)} events/s, ${result.runs} runs, ` +
            `event-to-alert p50 ${fixed(result.p50Ms)} ms, p99 ${fixed(result.p99Ms)} ms`,
        );
      }
      if (round % 2 === 0) await measureBaseline();
    }

    const summary = cases.map((c) => ({
      label: c.label,
      keys: c.keys,
      eventsPerSecond: median(c.rounds.map((r) => r.eventsPerSecond)),
      p50Ms: median(c.rounds.map((r) => r.p50Ms)),
      p99Ms: median(c.rounds.map((r) => r.p99Ms)),
      runs: c.rounds[0]?.runs ?? 0,
      rounds: c.rounds,
    }));
    const baselineSummary = summariseBaselines(baselineRounds);
    const reference = baselineSummary[0] as (typeof baselineSummary)[0];
    console.log(
      settings.repeats === 1 ? "\nOne round per case (a smoke check):\n" : `\nMedians of ${settings.repeats} rounds:\n`,
    );
    console.log(
      table(
        ["case", "events/s", "x baseline", "runs", "p50 ms", "p99 ms", "events/s per round"],
        [
          ...summary.map((s) => [
            `ours, ${s.label}`,
            fixed(s.eventsPerSecond, 0),
            fixed(s.eventsPerSecond / reference.perSecond, 2),
            s.runs,
            fixed(s.p50Ms),
            fixed(s.p99Ms),
            s.rounds.map((r) => fixed(r.eventsPerSecond, 0)).join(" "),
          ]),
          ...baselineSummary.map((b) => [
            b.label,
            fixed(b.perSecond, 0),
            "",
            "",
            "",
            "",
            b.rounds.map((r) => fixed(r, 0)).join(" "),
          ]),
        ],
      ),
    );
    console.log("");
    console.log(
      table(
        ["target", "value", "target", "result"],
        summary.flatMap((s) => [
          [
            `events/s, ${s.label}`,
            fixed(s.eventsPerSecond, 0),
            `>= ${TARGET_EVENTS_PER_SECOND}`,
            verdict(s.eventsPerSecond >= TARGET_EVENTS_PER_SECOND, "count events/s"),
          ],
          [
            `p99 event-to-alert, ${s.label}`,
            `${fixed(s.p99Ms)} ms`,
            `< ${P99_TARGET_MS} ms`,
            verdict(s.p99Ms < P99_TARGET_MS, "count p99"),
          ],
        ]),
      ),
    );
    const files = await counterFiles(worker.storage);
    const largest = Math.max(0, ...files);
    console.log(
      `\nEventCounters on disk: ${files.length} SQLite files, median ${fixed(median(files) / 1024)} KiB, largest ${fixed(largest / 1024)} KiB ` +
        "(a counter keeps its open events for two windows, the uuids it has seen and its fires for max(two windows, 1 h), at most 10,000).",
    );
    console.log(
      `In memory per counter: its open events (fewer than ${COUNT} per window here: a window that reaches ${COUNT} is used up) ` +
        "and the uuids it has seen (at most 10,000), as in the SQLite file.",
    );
    const path = await writeResults("count", {
      settings,
      machine: host,
      summary,
      baselines: baselineSummary,
      counterFiles: files,
    });
    console.log(`\nResults: ${path}`);
    return 0;
  } finally {
    await Promise.allSettled([worker?.stop(), ...baselines.map((b) => b.stop())]);
    await receiver?.close();
    await build.remove();
  }
}

runCli(HELP, main);
