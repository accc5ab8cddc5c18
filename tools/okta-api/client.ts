/**
 * A small client for Okta's Management API, for the Node-side tools: SSWS auth, Okta's
 * error body turned into an OktaApiError, `Link: <…>; rel="next"` pagination, and
 * Okta's rate limits honoured: it waits for `X-Rate-Limit-Reset` when a response says
 * none remain, and waits out a 429 the same way before trying again.
 */
import LinkHeader from "http-link-header";
import { z } from "zod";
import { fetchOrExplain } from "../cli/args";

const OktaErrorBody = z.object({
  errorCode: z.string(),
  errorSummary: z.string(),
  errorId: z.string().optional(),
  errorCauses: z.array(z.object({ errorSummary: z.string() })).optional(),
});

export class OktaApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorSummary: string,
    readonly causes: string[],
  ) {
    super(`Okta answered ${status} ${errorCode}: ${errorSummary}${causes.length ? ` (${causes.join("; ")})` : ""}`);
  }
}

export interface OktaClientOptions {
  orgUrl: string;
  apiToken: string;
  /** Told before every wait for a rate limit, with how long and why. */
  onWait?: (ms: number, why: string) => void;
  /** How many 429s in a row to wait out before giving up. */
  maxRateLimitWaits?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface Page<T> {
  items: T;
  next: string | null;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds until an `X-Rate-Limit-Reset` (epoch seconds), at least 0; a small margin absorbs clock skew. */
export function msUntilReset(reset: string | null, now: number): number | null {
  const seconds = Number(reset);
  if (reset === null || !Number.isFinite(seconds)) return null;
  return Math.max(0, seconds * 1000 - now) + 250;
}

export class OktaClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: OktaClientOptions) {
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
  }

  get orgUrl(): string {
    return this.options.orgUrl.replace(/\/+$/, "");
  }

  /** Sends one request (waiting out rate limits) and returns the parsed JSON body and the next-page link. */
  async request(method: string, pathOrUrl: string, body?: unknown): Promise<Page<unknown>> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.orgUrl}${pathOrUrl}`;
    for (let waits = 0; ; waits++) {
      const res = await fetchOrExplain(url, {
        method,
        headers: {
          Accept: "application/json",
          Authorization: `SSWS ${this.options.apiToken}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const wait = msUntilReset(res.headers.get("x-rate-limit-reset"), this.now());
      if (res.status === 429 && waits < (this.options.maxRateLimitWaits ?? 10)) {
        await res.body?.cancel();
        const ms = wait ?? 60_000;
        this.options.onWait?.(ms, `429 from ${method} ${new URL(url).pathname}`);
        await this.sleep(ms);
        continue;
      }
      const text = await res.text();
      const json = parseJson(text);
      if (!res.ok || json === undefined) throw toError(res.status, json, text);
      // None left in this window: wait for the reset now rather than meet a 429 next time.
      if (res.headers.get("x-rate-limit-remaining") === "0" && wait !== null) {
        this.options.onWait?.(wait, `rate limit reached on ${new URL(url).pathname}`);
        await this.sleep(wait);
      }
      const next = res.headers.get("link");
      return { items: json, next: next ? (LinkHeader.parse(next).rel("next")[0]?.uri ?? null) : null };
    }
  }

  async json(method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.request(method, path, body)).items;
  }
}

/** The body as JSON; undefined when it is not JSON (an empty body is null). */
function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toError(status: number, json: unknown, text: string): OktaApiError {
  const parsed = OktaErrorBody.safeParse(json);
  if (!parsed.success) {
    const snippet = text.slice(0, 200) || "(empty body)";
    return new OktaApiError(status, "not-okta", `not an Okta API response: ${snippet}`, []);
  }
  return new OktaApiError(
    status,
    parsed.data.errorCode,
    parsed.data.errorSummary,
    (parsed.data.errorCauses ?? []).map((cause) => cause.errorSummary),
  );
}
