/**
 * Sends a prepared request with a per-attempt timeout and bounded retries. Short
 * waits happen here; anything longer (a long Retry-After, retries used up) comes back
 * as a retryable failure so the engine can defer the run through the queue instead of
 * holding a consumer invocation.
 */
import { isJsonValue, type JsonValue } from "../template";
import type { ActionOutcome, PreparedRequest } from "./context";
import { redact, redactJson } from "./redact";

/** The longest server-requested wait we honour in place. */
export const MAX_INLINE_RETRY_AFTER_SECONDS = 5;
/** What we suggest to the engine when retries ran out and the server named no time. */
export const DEFAULT_DEFER_SECONDS = 30;
const BODY_EXCERPT_CHARS = 2048;
const ERROR_EXCERPT_CHARS = 300;
const JSON_MAX_CHARS = 8192;

export type SendOptions = {
  timeoutMs: number;
  retries: number;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
};

/** Exponential backoff with jitter: 0.5-1x of 500 ms doubled per attempt, capped at 8 s. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(8000, 500 * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * How long the server asks us to wait, in seconds: Retry-After as seconds or an
 * HTTP-date; on a 429 without it, Okta's X-Rate-Limit-Reset (epoch seconds). Null when absent.
 */
export function serverWaitSeconds(status: number, headers: Headers, nowMs: number): number | null {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, (date - nowMs) / 1000);
  }
  const reset = headers.get("x-rate-limit-reset")?.trim();
  if (status === 429 && reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) - nowMs / 1000);
  return null;
}

/** 408, 429 and 5xx are worth repeating; any other non-2xx is a verdict on the request itself. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Reads at most `maxChars` characters of the body, then stops: a large body must not cost memory or time. */
async function readText(res: Response, maxChars: number): Promise<{ text: string; complete: boolean }> {
  if (!res.body) return { text: "", complete: true };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (text.length <= maxChars) {
    const chunk = await reader.read();
    if (chunk.done) return { text: text + decoder.decode(), complete: true };
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel();
  return { text, complete: false };
}

function parseJson(text: string, contentType: string | null): JsonValue | undefined {
  if (!contentType?.toLowerCase().includes("json") || text.length > JSON_MAX_CHARS) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return isJsonValue(parsed) ? parsed : undefined;
  } catch (err) {
    // A body labelled JSON that is not: keep the text excerpt only; the status decides the outcome.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function describeThrown(err: unknown, timeoutMs: number): string {
  const name = typeof err === "object" && err !== null ? Reflect.get(err, "name") : undefined;
  if (name === "TimeoutError" || name === "AbortError") return `timed out after ${timeoutMs} ms`;
  return `network error: ${err instanceof Error ? err.message : String(err)}`;
}

function statusLine(res: Response): string {
  return res.statusText ? `HTTP ${res.status} ${res.statusText}` : `HTTP ${res.status}`;
}

/**
 * Sends `request`, retrying network errors, timeouts, 408, 429 and 5xx up to
 * `retries` times. Every string in the outcome has the request's secrets redacted.
 */
export async function sendWithRetries(request: PreparedRequest, options: SendOptions): Promise<ActionOutcome> {
  const now = options.now ?? Date.now;
  const scrub = (text: string) => redact(text, request.secrets);
  // Read past the limits by the longest secret, so a secret cut at the edge is still found whole.
  const margin = Math.max(0, ...request.secrets.map((secret) => secret.length));
  const retryable = (error: string, waitSeconds: number | null, attempts: number): ActionOutcome => ({
    status: "failed",
    error: scrub(`${request.label} failed after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${error}`),
    retryable: true,
    retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds ?? DEFAULT_DEFER_SECONDS)),
  });

  for (let attempt = 0; ; attempt++) {
    const attempts = attempt + 1;
    let error: string;
    let waitSeconds: number | null = null;
    try {
      const res = await options.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        // Never follow a redirect: it could carry our credential headers to another host.
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const read = await readText(res, JSON_MAX_CHARS + margin);
      const text = scrub(read.text);
      if (res.ok) {
        const parsed = read.complete ? parseJson(text, res.headers.get("content-type")) : undefined;
        // JSON escapes can spell a secret the text scrub did not see; scrub the parsed strings too.
        const json = parsed === undefined ? undefined : redactJson(parsed, request.secrets);
        const excerpt = text.slice(0, BODY_EXCERPT_CHARS);
        return {
          status: "succeeded",
          output: {
            status: res.status,
            body: excerpt,
            truncated: excerpt.length < text.length || !read.complete,
            ...(json === undefined ? {} : { json }),
            attempts,
            ...(request.showUrl ? { method: request.method, url: request.url } : {}),
          },
        };
      }
      const reason = `${statusLine(res)}${text ? `: ${text.slice(0, ERROR_EXCERPT_CHARS)}` : ""}`;
      if (!isRetryableStatus(res.status)) {
        const why = res.status >= 300 && res.status < 400 ? `${statusLine(res)}: redirects are not followed` : reason;
        return { status: "failed", error: scrub(`${request.label}: ${why}`), retryable: false };
      }
      error = reason;
      waitSeconds = serverWaitSeconds(res.status, res.headers, now());
      if (waitSeconds !== null && waitSeconds > MAX_INLINE_RETRY_AFTER_SECONDS) {
        return retryable(`${reason} (server asks to wait ${Math.ceil(waitSeconds)} s)`, waitSeconds, attempts);
      }
    } catch (err) {
      error = describeThrown(err, options.timeoutMs);
    }
    if (attempt >= options.retries) return retryable(error, waitSeconds, attempts);
    await options.sleep(waitSeconds !== null ? Math.round(waitSeconds * 1000) : backoffMs(attempt, options.random));
  }
}
