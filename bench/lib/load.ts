/**
 * Closed-loop HTTP load with autocannon on 127.0.0.1: a fixed number of connections,
 * each sending its next request as soon as the previous one is answered, for a fixed
 * time after a warm-up. Bodies come from a pool generated before the timed run, so
 * the load generator spends its time sending, not building JSON.
 */
import autocannon from "autocannon";

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Makes the body of one request; called once per request (pooled for the timed run). */
  body?: () => string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** Answers with a 2xx status per second of the timed run. */
  rps: number;
  /** Latency of every answer in the timed run, in milliseconds. */
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  /** Non-2xx answers, connection errors and timeouts. */
  failed: number;
  statusCodes: Record<string, number>;
  seconds: number;
  /** Bodies made during the timed run because the pool ran out (0 when the pool was big enough). */
  bodiesMadeLate: number;
}

/** Runs warm-up then the timed run and reports the timed run only. */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const warmup = await run(options, options.warmupSeconds, options.body);
  // Size the pool from the warm-up rate with 50% headroom; fall back to making bodies late.
  let bodiesMadeLate = 0;
  let take: (() => string) | undefined;
  if (options.body) {
    const make = options.body;
    const expected = Math.ceil((warmup.ok / Math.max(warmup.seconds, 0.1)) * options.durationSeconds * 1.5) + 200;
    const pool = Array.from({ length: expected }, make);
    let next = 0;
    take = () => {
      if (next < pool.length) return pool[next++] as string;
      bodiesMadeLate++;
      return make();
    };
  }
  const result = await run(options, options.durationSeconds, take);
  return { ...result, bodiesMadeLate };
}

async function run(options: LoadOptions, seconds: number, body: (() => string) | undefined) {
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: options.method ?? "POST",
        headers: options.headers,
        ...(body ? { setupRequest: (request) => ({ ...request, body: body() }) } : {}),
      },
    ],
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  const ok = result["2xx"];
  return {
    rps: ok / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    mean: latencies.length > 0 ? latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length : Number.NaN,
    ok,
    failed: result.non2xx + result.errors + result.timeouts,
    statusCodes,
    seconds: result.duration,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}
