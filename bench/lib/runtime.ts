/**
 * Starting Workers for benchmarks. Every Worker is started the same way: through the
 * Miniflare API (the miniflare that wrangler itself runs on), one workerd process per
 * Worker, listening on 127.0.0.1, with its storage in a temporary folder that is
 * removed afterwards. Nothing is written into the repository.
 *
 * Why not `wrangler dev`: it puts wrangler's Node process and a second workerd on the
 * request path and runs ~6x slower than Miniflare for a bare Worker (see
 * measured on this kind of machine, see bench/README.md), so it would measure wrangler, not the Worker.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// wrangler's config reader warns about secrets missing from .dev.vars; the benchmarks set their own.
process.env.WRANGLER_LOG ??= "error";

/** The miniflare that the installed wrangler depends on (not whichever one npm hoisted). */
const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
const miniflare = createRequire(wranglerPackage)("miniflare") as {
  Miniflare: new (options: unknown) => MiniflareInstance;
  convertV4MiniflareOptions: (options: Record<string, unknown>) => unknown;
};
const miniflareVersion = (createRequire(wranglerPackage)("miniflare/package.json") as { version: string }).version;

interface MiniflareInstance {
  ready: Promise<URL>;
  getD1Database(binding: string): Promise<D1Database>;
  dispose(): Promise<void>;
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Miniflare's (v4-style) options for one Worker: script, bindings, D1, queues, ... */
export type WorkerOptions = Record<string, unknown>;

export interface RunningWorker {
  name: string;
  url: URL;
  /** The Worker's D1 binding, from Node; undefined when it has none. */
  db(binding?: string): Promise<D1Database>;
  /** Its storage folder (D1, Durable Objects' SQLite files, queues), removed by stop(). */
  storage: string;
  stop(): Promise<void>;
}

export function runtimeDescription(): string {
  return `Miniflare API (miniflare ${miniflareVersion}, from wrangler's dependencies)`;
}

/** Starts one Worker; `options` are Miniflare worker options (scriptPath, bindings, d1Databases, ...). */
export async function startWorker(name: string, options: WorkerOptions): Promise<RunningWorker> {
  const storage = await mkdtemp(join(tmpdir(), `bench-${name}-`));
  const mf = new miniflare.Miniflare(
    miniflare.convertV4MiniflareOptions({
      name,
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: storage,
      unsafeLocalExplorer: false,
      unsafeObservability: false,
      logRequests: false,
      // bench/cpu-profile.ts: our Worker's inspector (never a baseline's: the consumer and
      // resume benchmarks name theirs "baseline-*", the ingress one "bare" and "minimal*").
      ...(process.env.BENCH_INSPECT && !/^(baseline|bare$|minimal)/.test(name)
        ? { inspectorPort: Number(process.env.BENCH_INSPECT) }
        : {}),
      // The Worker still writes its JSON log lines (their cost is part of what we measure,
      // as in production); only warnings and errors reach this terminal.
      handleStructuredLogs: (log: { level: string; message: string }) => {
        if (process.env.BENCH_DEBUG || log.level === "warn" || log.level === "error")
          process.stderr.write(`${log.message}\n`);
      },
      ...options,
    }),
  );
  try {
    const url = await mf.ready;
    return {
      name,
      url,
      storage,
      db: (binding = "DB") => mf.getD1Database(binding),
      async stop() {
        await mf.dispose();
        await rm(storage, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await mf.dispose().catch(() => {});
    await rm(storage, { recursive: true, force: true });
    throw err;
  }
}

/**
 * This project's Worker as it would be deployed: bundled by `wrangler deploy --dry-run`
 * into `outDir`, with the bindings, D1, queue producers and consumer of wrangler.toml.
 */
export async function projectWorkerOptions(outDir: string): Promise<WorkerOptions> {
  const wranglerCli = join(dirname(wranglerPackage), "bin", "wrangler.js");
  await promisify(execFile)(process.execPath, [wranglerCli, "deploy", "--dry-run", "--outdir", outDir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    const output = `${err.stdout ?? ""}${err.stderr ?? ""}`.replace(ANSI_COLOUR, "");
    throw new Error(`wrangler deploy --dry-run failed:\n${output}`);
  });
  // modulesRules only matter for unbundled sources (and Miniflare v5 rejects them).
  const { modulesRules: _, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"))
    .workerOptions as WorkerOptions;
  // Module names are paths relative to rootPath, so it must contain the bundle.
  return { ...workerOptions, rootPath: outDir, scriptPath: join(outDir, "index.js"), modules: true };
}

/** The consumer settings wrangler.toml gives the events queue, to reuse for baselines. */
export function projectQueueConsumer(): Record<string, unknown> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const consumers = (workerOptions.queueConsumers ?? {}) as Record<string, Record<string, unknown>>;
  const [first] = Object.values(consumers);
  const { deadLetterQueue: _, ...settings } = first ?? {};
  return settings;
}

/** Applies migrations/*.sql in order, the way `wrangler d1 migrations apply` splits them. */
export async function applyMigrations(db: D1Database, dir = join(ROOT, "migrations")): Promise<number> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".sql")).sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(await readFile(join(dir, file), "utf8"));
    await db.batch(statements.map((sql) => db.prepare(sql)));
  }
  return files.length;
}

/** A fresh temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
