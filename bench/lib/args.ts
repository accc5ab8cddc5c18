/** Command-line numbers for the benchmarks: the tools' one helper (tools/cli/args.ts), under the name the benchmarks use. */
import { intOption } from "../../tools/cli/args";

/** `raw` as a positive integer, `fallback` when absent; a usage error naming the option otherwise. */
export function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  return intOption(raw, name.replace(/^--/, ""), fallback, { min: 1 });
}
