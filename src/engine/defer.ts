/**
 * How long a run waits before its failed action is tried again. An outside server
 * names the time (Retry-After, X-Rate-Limit-Reset), so it is bounded here: nothing a
 * response says can park a run for years or write a date D1 cannot sort.
 */

/**
 * The longest deferral: one hour. A server asking for longer is tried again after an
 * hour (the attempt counts, so a server that keeps asking fails the run after
 * MAX_ACTION_ATTEMPTS tries, about four hours), rather than parked past any alert's use.
 */
export const MAX_DEFER_SECONDS = 3600;

/** Seconds to defer after `attempts` attempts: the server's wish if sane and within the cap, else a backoff of 30 s per attempt. */
export function deferSeconds(requested: number | undefined, attempts: number): number {
  const fallback = 30 * Math.max(1, attempts);
  const wanted = requested !== undefined && Number.isFinite(requested) && requested >= 0 ? requested : fallback;
  return Math.min(MAX_DEFER_SECONDS, Math.max(1, Math.ceil(wanted)));
}
