/**
 * End-to-end helpers for the consumer and resume benchmarks: this project's Worker
 * with its queue consumer and WaitRoom Durable Object, a local receiver for http
 * actions, the admin API, Okta deliveries and polling D1.
 */
import { execFile } from "node:child_process";
import { cp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../../tools/local-okta/builders";
import { bundleWorker, PROFILED_ENTRY, snapshotRevision } from "./bundle";
import {
  applyMigrations,
  projectWorkerOptions,
  ROOT,
  type RunningWorker,
  startWorker,
  type WorkerOptions,
} from "./runtime";

export const HOOK_SECRET = "bench-hook-secret";
export const ADMIN_TOKEN = "bench-admin-token";
const EVENTS_QUEUE = "okta-events";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Our Worker's options as deployed (wrangler.toml: D1, queues, the WaitRoom Durable
 * Object with SQLite storage), changed only where a benchmark must:
 *   - every queue consumer's max_batch_timeout is 0 (wrangler.toml: 1 s), because
 *     the local queue otherwise waits the batching window before every partial batch;
 *     max_batch_size stays as in wrangler.toml;
 *   - the cron is off (its repairs only touch events unqueued for 60 s and runs stalled
 *     for 15 min; off, it cannot interfere);
 *   - the secrets are the benchmark's.
 * With `profile`, the entry is bench/workers/profiled.js (our Worker with timing around
 * its I/O). With `rev`, the code is that commit's (git archive into buildDir), not the
 * working tree's. The migrations are copied next to the bundle, so every Worker a
 * benchmark starts runs the same code on the same schema even if the working tree
 * changes meanwhile. Returns also which code was bundled.
 */
export async function benchWorkerOptions(
  buildDir: string,
  { profile = false, rev }: { profile?: boolean; rev?: string } = {},
): Promise<BenchWorkerConfig> {
  const source = rev ? { commit: "", uncommitted: [] as string[] } : await sourceState();
  let root = ROOT;
  if (rev) {
    root = join(buildDir, "source");
    source.commit = (await snapshotRevision(rev, root)).slice(0, 7);
  }
  const outDir = join(buildDir, "bundle");
  const migrations = join(buildDir, "migrations");
  await cp(join(root, "migrations"), migrations, { recursive: true });
  const ours =
    profile || rev
      ? await bundleWorker(root, outDir, profile ? PROFILED_ENTRY : undefined)
      : await projectWorkerOptions(outDir);
  // Every queue the Worker consumes gets max_batch_timeout 0 (an engine may add queues).
  const consumers = Object.fromEntries(
    Object.entries((ours.queueConsumers ?? {}) as Record<string, Record<string, unknown>>).map(([queue, settings]) => [
      queue,
      { ...settings, maxBatchTimeout: 0 },
    ]),
  );
  const consumer = consumers[EVENTS_QUEUE] ?? {};
  const options = {
    ...ours,
    cronTriggers: [],
    queueConsumers: consumers,
    bindings: {
      ...(ours.bindings as Record<string, string>),
      OKTA_HOOK_SECRET: HOOK_SECRET,
      OKTA_HOOK_SECRET_PREVIOUS: "",
      ADMIN_TOKEN,
    },
  };
  return { options, consumer, migrations, source };
}

export interface BenchWorkerConfig {
  options: WorkerOptions;
  /** The events queue's consumer settings as used. */
  consumer: object;
  /** The migrations folder copied when the Worker was bundled. */
  migrations: string;
  /** The commit bundled, and (working tree only) the files under src/ and migrations/ that differed from it. */
  source: { commit: string; uncommitted: string[] };
}

/** One line saying which code a benchmark measured. */
export function describeSource({ commit, uncommitted }: BenchWorkerConfig["source"], rev?: string): string {
  if (rev) return `commit ${commit} (--rev ${rev}: a git archive of it, not the working tree)`;
  return uncommitted.length
    ? `working tree at ${commit}, with uncommitted changes to ${uncommitted.join(", ")}`
    : `working tree at ${commit} (src/ and migrations/ as committed)`;
}

/** A fresh instance of our Worker (own storage), migrated. */
export async function startProject(name: string, config: BenchWorkerConfig): Promise<RunningWorker> {
  const worker = await startWorker(name, config.options);
  try {
    await applyMigrations(await worker.db(), config.migrations);
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return worker;
}

/** The http actions' destination: a node:http server on 127.0.0.1 that answers 204 at once and notes each arrival. */
export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Requests received so far. */
  count(): number;
  /** Resolves with performance.now() when a request for `path` arrives (or already has). */
  arrival(path: string, timeoutMs: number): Promise<number>;
  /**
   * Resolves with performance.now() of the `n`th request whose path starts with `prefix`
   * (at once if it has come); rejects after `timeoutMs` naming how many came.
   */
  reached(prefix: string, n: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let received = 0;
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  /** Arrival times per watched prefix, and who waits for the nth. */
  const watched = new Map<string, { times: number[]; waiters: { n: number; resolve: (at: number) => void }[] }>();
  const watch = (prefix: string) => {
    let entry = watched.get(prefix);
    if (!entry) {
      entry = { times: [], waiters: [] };
      // Count what already came, so a late watcher still sees it.
      for (const [path, at] of arrivals) if (path.startsWith(prefix)) entry.times.push(at);
      entry.times.sort((a, b) => a - b);
      watched.set(prefix, entry);
    }
    return entry;
  };
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    received++;
    const path = req.url ?? "/";
    arrivals.set(path, at);
    waiters.get(path)?.(at);
    waiters.delete(path);
    for (const [prefix, entry] of watched) {
      if (!path.startsWith(prefix)) continue;
      entry.times.push(at);
      entry.waiters = entry.waiters.filter((w) => {
        if (entry.times.length < w.n) return true;
        w.resolve(at);
        return false;
      });
    }
    req.resume();
    res.writeHead(204).end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => received,
    arrival(path, timeoutMs) {
      const known = arrivals.get(path);
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(path);
          reject(new Error(`no request for ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(path, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
    reached(prefix, n, timeoutMs) {
      const entry = watch(prefix);
      const known = entry.times[n - 1];
      if (known !== undefined) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          entry.waiters = entry.waiters.filter((w) => w.resolve !== done);
          reject(new Error(`${entry.times.length} of ${n} requests for ${prefix}* within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (at: number) => {
          clearTimeout(timer);
          resolve(at);
        };
        entry.waiters.push({ n, resolve: done });
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One call to the admin API; throws on a non-2xx answer. */
export async function api(worker: RunningWorker, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(new URL(path, worker.url), {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** Creates workflows through POST /api/workflows, `concurrency` at a time; returns their ids in order. */
export async function createWorkflows(
  worker: RunningWorker,
  definitions: readonly object[],
  concurrency: number,
  onProgress?: (done: number) => void,
): Promise<string[]> {
  const ids: string[] = new Array(definitions.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, definitions.length) }, async () => {
      while (next < definitions.length) {
        const i = next++;
        const created = (await api(worker, "POST", "/api/workflows", definitions[i])) as { id: string };
        ids[i] = created.id;
        done++;
        if (onProgress && done % 1000 === 0) onProgress(done);
      }
    }),
  );
  return ids;
}

/** An event as the builders make it, for `eventType` on `assetId`. */
export function event(eventType: string, assetId: string, published = new Date()): Record<string, unknown> {
  return oktaEvent({ eventType, assetId, published });
}

/** Delivery bodies of at most `perDelivery` events each. */
export function deliveries(events: readonly Record<string, unknown>[], perDelivery: number): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += perDelivery) {
    bodies.push(JSON.stringify(oktaDelivery(events.slice(i, i + perDelivery))));
  }
  return bodies;
}

/** POSTs one delivery to /hooks/okta; throws unless the hook answers 200. */
export async function postDelivery(worker: RunningWorker, body: string): Promise<void> {
  const res = await fetch(new URL("/hooks/okta", worker.url), {
    method: "POST",
    headers: oktaHeaders(HOOK_SECRET),
    body,
  });
  if (res.status !== 200) throw new Error(`/hooks/okta answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/** POSTs deliveries in order, `concurrency` requests in flight. */
export async function postDeliveries(worker: RunningWorker, bodies: readonly string[], concurrency: number) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, bodies.length) }, async () => {
      while (next < bodies.length) await postDelivery(worker, bodies[next++] as string);
    }),
  );
}

/** A single number from D1 (`select count(*) as n ...`). */
export async function count(db: D1Database, sql: string, ...params: unknown[]): Promise<number> {
  const row = await db
    .prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return Number(row?.n ?? 0);
}

/** Runs per status, e.g. { completed: 5000, running: 3 }. */
export async function runStatuses(db: D1Database): Promise<Record<string, number>> {
  const { results } = await db
    .prepare("select status, count(*) as n from runs group by status")
    .all<{ status: string; n: number }>();
  return Object.fromEntries(results.map((row) => [row.status, Number(row.n)]));
}

/**
 * Polls `probe` every `intervalMs` until it returns at least `target`; returns the
 * performance.now() of the poll that saw it. Throws after `timeoutMs` with `describe()`.
 */
export async function pollUntil(
  probe: () => Promise<number>,
  target: number,
  options: { intervalMs: number; timeoutMs: number; describe: () => Promise<string> },
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const value = await probe();
    const now = performance.now();
    if (value >= target) return now;
    if (now - started > options.timeoutMs) {
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s: ${await options.describe()}`);
    }
    await sleep(options.intervalMs);
  }
}

/** Which code was measured: the commit, and the files under src/ and migrations/ that differ from it. */
export async function sourceState(): Promise<{ commit: string; uncommitted: string[] }> {
  const git = async (...args: string[]) =>
    (await promisify(execFile)("git", args, { cwd: ROOT }).catch(() => ({ stdout: "" }))).stdout.trimEnd();
  const commit = (await git("rev-parse", "--short", "HEAD")) || "unknown";
  const status = await git("status", "--porcelain", "--", "src", "migrations");
  return { commit, uncommitted: status ? status.split("\n").map((line) => line.slice(3)) : [] };
}

/** The median, averaging the two middle values of an even count (load.ts's nearest-rank median takes the lower). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
