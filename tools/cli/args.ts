/**
 * The one command-line helper every Node-side tool uses: `node:util` parseArgs with
 * `strict: true` (an unknown option is a usage error, not a stack trace), `-h/--help`,
 * validated numbers, and a network error that names the URL and its cause.
 *
 *   runCli(HELP, async (argv) => {
 *     const { values } = parseCli(argv, { port: { type: "string" } });
 *     const port = portOption(values.port, "port", 8788);
 *     ...
 *   });
 *
 * A usage error prints `error: …` and the usage to stderr and exits 2; any other error
 * prints `error: …` (no stack trace) and exits 1.
 */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

/** A mistake in how the tool was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

/** parseArgs with strict: true and -h/--help added; a parse error becomes a UsageError. */
export function parseCli<T extends ParseArgsOptionsConfig>(
  argv: string[],
  options: T,
  { positionals = false }: { positionals?: boolean } = {},
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...HELP_OPTION, ...options },
      strict: true,
      allowPositionals: positionals,
    });
  } catch (err) {
    // Node's advice on positionals that start with "-" (after "--") only confuses here.
    if (err instanceof TypeError)
      throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/s, ""));
    throw err;
  }
}

/**
 * `raw` as a whole number in [min, max]; `fallback` when absent. Refuses `abc`, `1.5`,
 * `1e3x` and empty strings, naming the option and what it got.
 */
export function intOption(
  raw: string | undefined,
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (raw === undefined) return fallback;
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range} (got "${raw}")`);
  }
  return n;
}

/** A TCP port from a flag, else an environment variable, else the default. */
export function portOption(raw: string | undefined, name: string, envValue: string | undefined, fallback: number) {
  if (raw === undefined && envValue) {
    const n = /^\d+$/.test(envValue) ? Number(envValue) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new UsageError(`the port in the environment must be 1-65535 (got "${envValue}")`);
    }
    return n;
  }
  return intOption(raw, name, fallback, { min: 1, max: 65535 });
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2})))?$/;

/**
 * An instant from the command line, as ISO 8601 UTC: a date and time with `Z` or an
 * explicit offset (`2026-11-30T08:00:00+01:00`), or a date alone, meaning UTC midnight.
 * A time without an offset is refused (whose local time?), and so is a date that does
 * not exist (`2026-02-30` is not March 2nd).
 */
export function instantOption(raw: string, name: string): string {
  const m = INSTANT.exec(raw.trim());
  const bad = (why: string): never => {
    throw new UsageError(`--${name} ${why} (got "${raw}")`);
  };
  if (!m) {
    return bad(
      /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(raw.trim())
        ? "needs a time zone: end it with Z or an offset such as +01:00"
        : "must be a date (2026-11-01, UTC midnight) or a date and time with Z or an offset (2026-11-01T08:00:00Z)",
    );
  }
  const part = (i: number) => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) bad("is not a date that exists");
  if (hour > 23 || minute > 59 || second > 59) bad("is not a time that exists");
  const [offsetHours, offsetMins] = [Number(m[10] ?? 0), Number(m[11] ?? 0)];
  if (offsetHours > 23 || offsetMins > 59) bad("has an offset that does not exist");
  const offset = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins);
  const millis = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000;
  return new Date(utc).toISOString();
}

/**
 * Our service's base URL from the command line: http(s), and no path, so that a hook
 * URL (`…/hooks/okta`) given by habit is refused rather than quietly cut to its origin.
 */
export function serviceUrlOption(raw: string, name = "url"): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} must be the service's URL, such as http://127.0.0.1:8787 (got "${raw}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--${name} must be an http or https URL (got "${raw}")`);
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new UsageError(`--${name} is the service's base URL, not a path on it: use ${url.origin} (got "${raw}")`);
  }
  return url.origin;
}

/**
 * What went wrong reaching `url`: fetch's own "fetch failed" says nothing, its cause
 * (ECONNREFUSED, ENOTFOUND, a TLS error) does.
 */
export function networkErrorMessage(url: string | URL, err: unknown): string {
  const target = String(url);
  const cause = err instanceof Error ? err.cause : undefined;
  const code = cause && typeof cause === "object" && "code" in cause ? String(cause.code) : undefined;
  const detail =
    cause instanceof Error ? cause.message : cause instanceof AggregateError ? cause.errors.join("; ") : undefined;
  const reason = detail && code && !detail.includes(code) ? `${code} ${detail}` : (detail ?? code);
  return `cannot reach ${target}: ${reason || (err instanceof Error ? err.message : String(err))}`;
}

/** A request that got no answer at all (refused, unknown host, TLS, timeout). */
export class NetworkError extends Error {}

/** fetch, with a network failure turned into a NetworkError that names the URL and the cause. */
export async function fetchOrExplain(url: string | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new NetworkError(networkErrorMessage(url, err), { cause: err });
  }
}

/**
 * Runs a tool's main: `--help`/`-h` (seen by parseCli, returned as `"help"`) prints
 * `help`; a UsageError prints the message and the usage, exit 2; any other error prints
 * its message (or what `failed` prints for it), exit 1. A number returned is the exit code.
 */
export function runCli(
  help: string,
  main: (argv: string[]) => unknown,
  failed: (err: unknown) => void = (err) => console.error(`error: ${err instanceof Error ? err.message : String(err)}`),
) {
  const argv = process.argv.slice(2);
  Promise.resolve()
    .then(() => main(argv))
    .then(
      (code) => {
        if (typeof code === "number") process.exitCode = code;
      },
      (err: unknown) => {
        if (err instanceof UsageError) {
          console.error(`error: ${err.message}\n\n${help}`);
          process.exitCode = 2;
        } else {
          failed(err);
          process.exitCode = 1;
        }
      },
    );
}

/** True when the caller asked for help; prints it. */
export function printedHelp(values: { help?: boolean | undefined }, help: string): boolean {
  if (values.help) console.log(help);
  return values.help === true;
}
