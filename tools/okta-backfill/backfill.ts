/**
 * Backfill: reads Okta's System Log (`GET /api/v1/logs`) for a time range and event
 * types, page by page along `Link: rel="next"`, and stores each page through the admin
 * API's store-only path (`POST /api/backfill/deliveries`) as Okta-shaped deliveries:
 * events already stored are skipped by uuid, and none of them starts a run or resumes a
 * wait (a replay does that afterwards, on purpose). Rate limits are the OktaClient's
 * business; an Okta 5xx is tried again here, backing off, before the backfill stops.
 *
 * The cursor is the `after` of the next page, reported only once a page is stored, so
 * resuming from it never skips an event (at worst it re-sends one page, which dedupes).
 */
import { z } from "zod";
import { fetchOrExplain } from "../cli/args";
import { oktaDelivery } from "../local-okta/builders";
import { OktaApiError, type OktaClient } from "../okta-api/client";

export interface BackfillRange {
  since: string;
  until: string;
  types: string[];
  /** Resume after this cursor (printed by an earlier run). */
  after?: string;
  /** Events per System Log page; Okta allows up to 1000. */
  limit?: number;
}

/** Our service: its base URL and the admin token; `source` names the Okta org of OKTA_SOURCES, if any. */
export interface StoreTarget {
  url: string;
  adminToken: string;
  source?: string;
}

export interface BackfillOptions {
  onPage?: (progress: BackfillProgress) => void;
  shouldStop?: () => boolean;
  /** Told before each wait after an Okta 5xx. */
  onRetry?: (ms: number, why: string) => void;
  /** Waits after an Okta failure: 1, 2, 4, 8, 16 s by default, then the backfill stops. */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
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

/** How long to wait after each Okta 5xx (or network failure) in a row before giving up. */
export const OKTA_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 16_000] as const;

/** Our service refused or could not take a page (admin token, 4xx, a 5xx after three tries, unreachable). */
export class ServiceRefused extends Error {}

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
  target: StoreTarget,
  options: BackfillOptions = {},
): Promise<BackfillProgress> {
  const progress: BackfillProgress = { pages: 0, events: 0, lastPublished: null, cursor: range.after ?? null };
  let url: string | null = logsUrl(range);
  while (url !== null) {
    const page = await readPage(client, url, options);
    const events = LogEvents.parse(page.items);
    for (let i = 0; i < events.length; i += EVENTS_PER_DELIVERY) {
      await store(target, events.slice(i, i + EVENTS_PER_DELIVERY), client.orgUrl);
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

/** One System Log page; an Okta 5xx is tried again after each delay, then thrown. */
async function readPage(client: OktaClient, url: string, options: BackfillOptions) {
  const delays = options.retryDelaysMs ?? OKTA_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.request("GET", url);
    } catch (err) {
      // Only Okta's own 5xx: a refused connection or a bad host is a mistake to report at once.
      const delay = delays[attempt];
      if (!(err instanceof OktaApiError && err.status >= 500) || delay === undefined) throw err;
      options.onRetry?.(delay, `${err.message}; try ${attempt + 2} of ${delays.length + 1}`);
      await sleep(delay);
    }
  }
}

/** One POST of past events to the store-only path; a 5xx is tried again (3 times, backing off). */
async function store(target: StoreTarget, events: Record<string, unknown>[], orgUrl: string): Promise<void> {
  // The delivery's source names the System Log, so stored deliveries show they came from a backfill.
  const body = JSON.stringify({ ...oktaDelivery(events, { orgUrl }), source: `${orgUrl}/api/v1/logs` });
  const url = new URL("/api/backfill/deliveries", target.url);
  if (target.source) url.searchParams.set("source", target.source);
  for (let attempt = 1; ; attempt++) {
    const res = await fetchOrExplain(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${target.adminToken}`, "Content-Type": "application/json" },
      body,
    }).catch((err: unknown) => {
      throw new ServiceRefused(`${err instanceof Error ? err.message : String(err)}: is the service running?`);
    });
    const text = await res.text();
    if (res.ok) return;
    if (res.status === 401) throw new ServiceRefused(`${url.origin} refused the admin token (401): check ADMIN_TOKEN`);
    if (res.status < 500 || attempt >= 3) throw new ServiceRefused(`${url.origin} answered ${res.status}: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
  }
}
