/**
 * `okta:backfill`'s options, decided from plain data: strict instants for `--since` and
 * `--until`, whether the backfill may start runs, and the command that resumes it with
 * every option it was given. Pure (the clock is an argument).
 */
import { isSystemEventType, SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { instantOption, intOption, UsageError } from "../cli/args";

/**
 * A backfill whose window starts more than this long ago stores its events and starts
 * no run unless `--start-runs` says so: a week-old "token created" must not page on-call now.
 */
export const STORE_ONLY_OLDER_THAN_MS = 60 * 60 * 1000;

export type BackfillMode = "store-only" | "start-runs";

export interface BackfillOptions {
  since: string;
  until: string;
  types: string[];
  /** Only when `--types` was given: the resume command repeats it, otherwise it stays "all 13". */
  typesGiven: boolean;
  after?: string;
  limit: number;
  limitGiven: boolean;
  url?: string;
  source?: string;
  mode: BackfillMode;
  /** True when the mode came from the window's age, not from a flag. */
  modeByDefault: boolean;
}

export interface BackfillArgs {
  since?: string;
  until?: string;
  types?: string;
  after?: string;
  limit?: string;
  url?: string;
  source?: string;
  "store-only"?: boolean;
  "start-runs"?: boolean;
}

/** The options, checked: a range that runs forwards, known types, one mode at most. */
export function backfillOptions(values: BackfillArgs, now: Date): BackfillOptions {
  const limit = intOption(values.limit, "limit", 1000, { min: 1, max: 1000 });
  if (values.since === undefined) throw new UsageError("--since is required");
  const since = instantOption(values.since, "since");
  const until = values.until === undefined ? now.toISOString() : instantOption(values.until, "until");
  if (Date.parse(since) >= Date.parse(until)) {
    throw new UsageError(`--since (${since}) must be before --until (${until})`);
  }
  const types = values.types
    ? values.types.split(",").map((type) => type.trim())
    : SYSTEM_CATEGORY_EVENT_TYPES.map((type) => type.eventType);
  const unknown = types.filter((type) => !isSystemEventType(type));
  if (unknown.length > 0) throw new UsageError(`not System Category event types: ${unknown.join(", ")}`);
  if (values["store-only"] && values["start-runs"]) {
    throw new UsageError("--store-only and --start-runs contradict each other; give one");
  }
  const old = now.getTime() - Date.parse(since) > STORE_ONLY_OLDER_THAN_MS;
  const mode: BackfillMode = values["store-only"]
    ? "store-only"
    : values["start-runs"]
      ? "start-runs"
      : old
        ? "store-only"
        : "start-runs";
  return {
    since,
    until,
    types,
    typesGiven: values.types !== undefined,
    after: values.after,
    limit,
    limitGiven: values.limit !== undefined,
    url: values.url,
    source: values.source,
    mode,
    modeByDefault: !values["store-only"] && !values["start-runs"],
  };
}

/**
 * The command that carries on from `cursor`: every option given, the range as resolved
 * (`--until` fixed even if it defaulted to "now") and the mode written out, so a resume
 * an hour later does not flip to the other default.
 */
export function resumeCommand(options: BackfillOptions, cursor: string | null): string {
  const args = ["--since", options.since, "--until", options.until];
  if (options.typesGiven) args.push("--types", options.types.join(","));
  if (options.limitGiven) args.push("--limit", String(options.limit));
  if (options.url) args.push("--url", options.url);
  if (options.source) args.push("--source", options.source);
  args.push(`--${options.mode}`);
  if (cursor) args.push("--after", cursor);
  return `npm run okta:backfill -- ${args.map(shellWord).join(" ")}`;
}

/** Quotes a word for a POSIX shell when it needs it (a cursor or URL may hold `&`). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
