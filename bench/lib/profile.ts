/**
 * `--profile` for the consumer and resume benchmarks: reading and printing the totals of
 * bench/workers/profiled.js (src/index.ts with timing around its I/O; bundled by
 * bench/lib/bundle.ts).
 */
import { fixed, table } from "./report";
import type { RunningWorker } from "./runtime";

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
