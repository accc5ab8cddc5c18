/**
 * `--profile` for the consumer and resume benchmarks: our Worker bundled from
 * bench/workers/profiled.js (src/index.ts with timing around its I/O) instead of
 * src/index.ts, with the same wrangler.toml configuration, and a reader for its totals.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { fixed, table } from "./report";
import { ROOT, type RunningWorker, type WorkerOptions } from "./runtime";

const ENTRY = "bench/workers/profiled.js";

/** Like projectWorkerOptions, with bench/workers/profiled.js as the entry point. */
export async function profiledWorkerOptions(outDir: string): Promise<WorkerOptions> {
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wranglerCli = join(dirname(wranglerPackage), "bin", "wrangler.js");
  await promisify(execFile)(process.execPath, [wranglerCli, "deploy", ENTRY, "--dry-run", "--outdir", outDir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`wrangler deploy --dry-run ${ENTRY} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  });
  const { modulesRules: _, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"))
    .workerOptions as WorkerOptions;
  return { ...workerOptions, rootPath: outDir, scriptPath: join(outDir, "profiled.js"), modules: true };
}

export type ProfileStats = Record<string, { n: number; ms: number }>;

/** The profiled Worker's totals since the last reset; `reset` starts a new period. */
export async function readProfile(worker: RunningWorker, reset: boolean): Promise<ProfileStats> {
  const res = await fetch(new URL(`/__bench/profile${reset ? "?reset=1" : ""}`, worker.url));
  if (!res.ok) throw new Error(`profile endpoint answered ${res.status}; was the Worker started with --profile?`);
  return ((await res.json()) as { stats: ProfileStats }).stats;
}

/** A table of the totals, biggest first, with calls and milliseconds per `unit` (e.g. per run). */
export function profileTable(stats: ProfileStats, units: number, unitName: string, limit = 25): string {
  const rows = Object.entries(stats)
    .sort(([, a], [, b]) => b.ms - a.ms || b.n - a.n)
    .slice(0, limit)
    .map(([key, s]) => [
      key,
      s.n,
      fixed(s.n / units, 2),
      fixed(s.ms, 0),
      fixed(s.ms / units, 2),
      s.n ? fixed(s.ms / s.n, 2) : "",
    ]);
  return table(["where", "calls", `calls/${unitName}`, "total ms", `ms/${unitName}`, "ms/call"], rows);
}
