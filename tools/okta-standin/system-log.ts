/**
 * The stand-in's System Log query, as `GET /api/v1/logs` answers it. Pure.
 *
 * - `since` defaults to seven days ago; `until` bounds the query. Events are ordered by
 *   `published` (then `uuid`), ascending unless `sortOrder=DESCENDING`.
 * - `filter` accepts Okta's expression syntax as far as the tools use it:
 *   `eventType eq "…"` terms joined by `or`, optionally in parentheses.
 * - `limit` defaults to 100 and may be at most 1000.
 * - `after` is an opaque cursor from the previous page's `Link: <…>; rel="next"`. A
 *   bounded query (with `until`) stops giving a next link at its last page; a polling
 *   query (no `until`) always gives one, as Okta does.
 */

export interface LogQuery {
  since?: string;
  until?: string;
  filter?: string;
  limit?: string;
  after?: string;
  sortOrder?: string;
}

export type LogPage =
  | { ok: true; events: Record<string, unknown>[]; after: string | null }
  | { ok: false; kind: "search" | "request"; cause: string };

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
const TERM = /^eventType\s+eq\s+"([^"\\]+)"$/;

/** The event types a filter names, or an error for an expression outside the supported subset. */
export function parseFilter(filter: string): { ok: true; types: Set<string> } | { ok: false; cause: string } {
  let text = filter.trim();
  while (text.startsWith("(") && text.endsWith(")")) text = text.slice(1, -1).trim();
  const types = new Set<string>();
  for (const term of text.split(/\s+or\s+/)) {
    const match = TERM.exec(
      term
        .trim()
        .replace(/^\((.*)\)$/, "$1")
        .trim(),
    );
    if (!match?.[1]) return { ok: false, cause: `unsupported filter term: ${term.trim()}` };
    types.add(match[1]);
  }
  return { ok: true, types };
}

const published = (event: Record<string, unknown>) => String(event.published ?? "");
const keyOf = (event: Record<string, unknown>) => `${published(event)}|${String(event.uuid ?? "")}`;

export function queryLogs(all: readonly Record<string, unknown>[], query: LogQuery, now: Date): LogPage {
  const since = query.since ? Date.parse(query.since) : now.getTime() - SEVEN_DAYS_MS;
  const until = query.until ? Date.parse(query.until) : Number.POSITIVE_INFINITY;
  if (Number.isNaN(since)) return { ok: false, kind: "request", cause: `since: not an ISO 8601 date: ${query.since}` };
  if (Number.isNaN(until)) return { ok: false, kind: "request", cause: `until: not an ISO 8601 date: ${query.until}` };
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return { ok: false, kind: "request", cause: "limit: must be an integer from 1 to 1000" };
  }
  let types: Set<string> | null = null;
  if (query.filter) {
    const parsed = parseFilter(query.filter);
    if (!parsed.ok) return { ok: false, kind: "search", cause: parsed.cause };
    types = parsed.types;
  }
  const descending = query.sortOrder === "DESCENDING";
  const afterKey = query.after ? Buffer.from(query.after, "base64url").toString("utf8") : null;
  const matching = all
    .filter((event) => {
      const at = Date.parse(published(event));
      return at >= since && at < until && (types === null || types.has(String(event.eventType)));
    })
    .sort((a, b) => (descending ? keyOf(b).localeCompare(keyOf(a)) : keyOf(a).localeCompare(keyOf(b))));
  const rest =
    afterKey === null
      ? matching
      : matching.filter((event) => (descending ? keyOf(event) < afterKey : keyOf(event) > afterKey));
  const events = rest.slice(0, limit);
  const last = events.at(-1);
  const more = rest.length > limit || query.until === undefined;
  const cursor = last ? keyOf(last) : afterKey;
  return { ok: true, events, after: more && cursor ? Buffer.from(cursor).toString("base64url") : null };
}
