/** Command-line numbers for the benchmarks. */

/** `raw` as a positive integer, `fallback` when absent; a clear error naming the option otherwise. */
export function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}
