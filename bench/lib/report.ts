/** Shared bits of every benchmark's report: the machine, settings from the environment, tables, result files. */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "./runtime";

export interface Settings {
  quick: boolean;
  warmupSeconds: number;
  durationSeconds: number;
  repeats: number;
  connections: number;
}

/**
 * Run settings: defaults (3 rounds of 2 s warm-up + 8 s) or --quick (1 round of
 * 0.5 s + 3 s), each overridden by BENCH_WARMUP, BENCH_DURATION (seconds),
 * BENCH_REPEATS and BENCH_CONNECTIONS.
 */
export function settingsFromEnv(quick: boolean): Settings {
  const num = (name: string, fallback: number) => {
    const raw = process.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${raw})`);
    return value;
  };
  return {
    quick,
    warmupSeconds: num("BENCH_WARMUP", quick ? 0.5 : 2),
    durationSeconds: num("BENCH_DURATION", quick ? 3 : 8),
    repeats: Math.round(num("BENCH_REPEATS", quick ? 1 : 3)),
    connections: Math.round(num("BENCH_CONNECTIONS", 10)),
  };
}

export function machine() {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** A plain text table with right-aligned numeric columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells
    .map((row, r) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .concat(r === 0 ? `\n${widths.map((w) => "-".repeat(w)).join("  ")}` : ""),
    )
    .join("\n");
}

export const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

/** Writes `bench/results/<name>-<timestamp>.json` (gitignored) and returns its path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = join(ROOT, "bench", "results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
