/**
 * The minimal queue consumer the consumer and resume benchmarks compare against
 * (bench/workers/queue-baseline.js): per message one D1 row and one `fetch` to the same
 * receiver our http actions call, batches of 100, max_batch_timeout 0, under the same
 * Miniflare API as our Worker. Measured in the same run as ours, so the ratio between
 * the two is what a benchmark reports.
 */
import { type TargetId, verdict } from "./known-misses";
import { median, type Receiver } from "./project";
import { ROOT, type RunningWorker, startWorker } from "./runtime";

/**
 * "statement" is the reference the targets are set against (one D1 statement and one
 * fetch per message, one message after another: the issue's ~600-770 messages/s); the
 * other two are printed beside it to show how much room batching leaves.
 */
export type BaselineMode = "statement" | "concurrent" | "batch";
export const BASELINE_MODES: readonly BaselineMode[] = ["statement", "concurrent", "batch"];

export const BASELINE_LABELS: Record<BaselineMode, string> = {
  statement: "baseline: 1 D1 statement + 1 fetch per message, in turn",
  concurrent: "baseline: the same, a batch's messages at once",
  batch: "baseline: 1 D1 batch per queue batch + 1 fetch per message",
};

export interface BaselineResult {
  mode: BaselineMode;
  messages: number;
  /** From the POST that enqueues the messages to the last message's fetch at the receiver. */
  seconds: number;
  perSecond: number;
}

export interface Baseline {
  mode: BaselineMode;
  worker: RunningWorker;
  /** Enqueues `messages` fresh messages and times them until the receiver has every fetch. */
  measure(messages: number, timeoutMs: number): Promise<BaselineResult>;
  stop(): Promise<void>;
}

let rounds = 0;

/** Starts the baseline Worker in `mode` with its own storage and queue; `compatibilityDate` as ours. */
export async function startBaseline(
  mode: BaselineMode,
  receiver: Receiver,
  compatibilityDate: unknown,
): Promise<Baseline> {
  const queue = `bench-baseline-${mode}`;
  const worker = await startWorker(`baseline-${mode}`, {
    scriptPath: `${ROOT}bench/workers/queue-baseline.js`,
    modules: true,
    compatibilityDate,
    bindings: { MODE: mode, RECEIVER_URL: receiver.url },
    d1Databases: { DB: `bench-baseline-${mode}` },
    queueProducers: { JOBS: { queueName: queue } },
    queueConsumers: { [queue]: { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 0 } },
  });
  const post = async (path: string, body?: unknown) => {
    const res = await fetch(new URL(path, worker.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status !== 204) throw new Error(`baseline ${path} answered ${res.status}`);
  };
  try {
    await post("/setup");
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return {
    mode,
    worker,
    async measure(messages, timeoutMs) {
      const tag = `${mode}-${++rounds}`;
      const done = receiver.reached(`/baseline/${tag}/`, messages, timeoutMs);
      const t0 = performance.now();
      await post("/enqueue", { tag, count: messages });
      const seconds = ((await done) - t0) / 1000;
      return { mode, messages, seconds, perSecond: messages / seconds };
    },
    stop: () => worker.stop(),
  };
}

/** Every baseline mode, each in its own Worker. */
export async function startBaselines(receiver: Receiver, compatibilityDate: unknown): Promise<Baseline[]> {
  const started: Baseline[] = [];
  try {
    for (const mode of BASELINE_MODES) started.push(await startBaseline(mode, receiver, compatibilityDate));
  } catch (err) {
    await Promise.allSettled(started.map((b) => b.stop()));
    throw err;
  }
  return started;
}

/** One measurement of each baseline, one after another, `messages` each. */
export async function measureBaselines(
  baselines: readonly Baseline[],
  messages: number,
  timeoutMs: number,
): Promise<BaselineResult[]> {
  const results: BaselineResult[] = [];
  for (const baseline of baselines) results.push(await baseline.measure(messages, timeoutMs));
  return results;
}

/** Per mode: the median messages/s over rounds, and each round's. */
export function summariseBaselines(rounds: readonly BaselineResult[][]) {
  return BASELINE_MODES.map((mode) => {
    const list = rounds.flat().filter((r) => r.mode === mode);
    return {
      mode,
      label: BASELINE_LABELS[mode],
      messages: list[0]?.messages ?? 0,
      perSecond: median(list.map((r) => r.perSecond)),
      seconds: median(list.map((r) => r.seconds)),
      rounds: list.map((r) => r.perSecond),
    };
  });
}

/** A line per baseline for a round's progress output. */
export function describeBaselines(results: readonly BaselineResult[]): string {
  return results.map((r) => `${r.mode} ${r.perSecond.toFixed(0)}/s`).join(", ");
}

/**
 * The throughput target: ours at least the one-statement-per-message baseline (issue 15,
 * the fenced engine; issue 7 asked for half of it).
 */
export const THROUGHPUT_TARGET = 1.0;
/** Event-to-action and event-to-resume p99, locally. */
export const P99_TARGET_MS = 150;

/** A row of a ratio table: name, value, target, verdict (known-misses.ts says whether a miss is news). */
export function ratioRow(name: string, value: number, id: TargetId, target = THROUGHPUT_TARGET): string[] {
  return [name, Number.isFinite(value) ? value.toFixed(2) : "n/a", `>= ${target}`, verdict(value >= target, id)];
}
