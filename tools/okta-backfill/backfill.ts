/**
 * Backfill: reads Okta's System Log (`GET /api/v1/logs`) for a time range and event
 * types, page by page along `Link: rel="next"`, and feeds each page to our hook as
 * Okta-shaped deliveries, so the events take the same ingest path as live ones: events
 * already stored are skipped by uuid there. Rate limits are the OktaClient's business.
 *
 * The cursor is the `after` of the next page, reported only once a page is stored, so
 * resuming from it never skips an event (at worst it re-sends one page, which dedupes).
 */
import { z } from "zod";
import { oktaDelivery, oktaHeaders } from "../local-okta/builders";
import type { OktaClient } from "../okta-api/client";

export interface BackfillRange {
  since: string;
  until: string;
  types: string[];
  /** Resume after this cursor (printed by an earlier run). */
  after?: string;
  /** Events per System Log page; Okta allows up to 1000. */
  limit?: number;
}

export interface HookTarget {
  url: string;
  header: string;
  secret: string;
}

export interface BackfillProgress {
  pages: number;
  events: number;
  /** `published` of the newest event sent so far. */
  lastPublished: string | null;
  /** Where to resume; null once the range is exhausted. */
  cursor: string | null;
}

/** Events per delivery: keeps each POST well under the hook's 1 MB body limit. */
const EVENTS_PER_DELIVERY = 100;
const LogEvents = z.array(z.looseObject({ uuid: z.string(), published: z.string() }));

export class HookRefused extends Error {}

/** The first page's URL: the range, the types as an `eventType eq` filter, oldest first. */
export function logsUrl(range: BackfillRange): string {
  const params = new URLSearchParams({
    since: range.since,
    until: range.until,
    limit: String(range.limit ?? 1000),
    sortOrder: "ASCENDING",
  });
  if (range.types.length > 0) params.set("filter", range.types.map((type) => `eventType eq "${type}"`).join(" or "));
  if (range.after) params.set("after", range.after);
  return `/api/v1/logs?${params}`;
}

export async function backfill(
  client: OktaClient,
  range: BackfillRange,
  hook: HookTarget,
  options: { onPage?: (progress: BackfillProgress) => void; shouldStop?: () => boolean } = {},
): Promise<BackfillProgress> {
  const progress: BackfillProgress = { pages: 0, events: 0, lastPublished: null, cursor: range.after ?? null };
  let url: string | null = logsUrl(range);
  while (url !== null) {
    const page = await client.request("GET", url);
    const events = LogEvents.parse(page.items);
    for (let i = 0; i < events.length; i += EVENTS_PER_DELIVERY) {
      await deliver(hook, events.slice(i, i + EVENTS_PER_DELIVERY), client.orgUrl);
    }
    // An empty page ends a bounded query even if Okta still offers a next link.
    url = events.length > 0 ? page.next : null;
    progress.pages += 1;
    progress.events += events.length;
    progress.lastPublished = events.at(-1)?.published ?? progress.lastPublished;
    progress.cursor = url === null ? null : new URL(url).searchParams.get("after");
    options.onPage?.({ ...progress });
    if (options.shouldStop?.()) break;
  }
  return progress;
}

/** One POST to our hook, as Okta would send it; a 5xx is tried again (3 times, backing off). */
async function deliver(hook: HookTarget, events: Record<string, unknown>[], orgUrl: string): Promise<void> {
  // The delivery's source names the System Log, so stored deliveries show they came from a backfill.
  const body = JSON.stringify({ ...oktaDelivery(events, { orgUrl }), source: `${orgUrl}/api/v1/logs` });
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(hook.url, { method: "POST", headers: oktaHeaders(hook.secret, hook.header), body }).catch(
      (err: unknown) => {
        throw new HookRefused(
          `could not reach ${hook.url} (${err instanceof Error ? err.message : String(err)}): is the service running?`,
        );
      },
    );
    const text = await res.text();
    if (res.ok) return;
    if (res.status === 401) throw new HookRefused(`${hook.url} refused the hook secret (401): check OKTA_HOOK_SECRET`);
    if (res.status < 500 || attempt >= 3) throw new HookRefused(`${hook.url} answered ${res.status}: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
  }
}
