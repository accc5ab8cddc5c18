/**
 * A fixed-window rate limit per endpoint bucket, reported in Okta's headers:
 * `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining`, and `X-Rate-Limit-Reset` (UTC epoch
 * seconds at which the window resets). Pure apart from the clock it is given.
 */
export interface RateLimitState {
  allowed: boolean;
  headers: Record<string, string>;
}

export class RateLimiter {
  private windowStart = 0;
  private used = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request at `now` and says whether it is within the limit. */
  take(now: number): RateLimitState {
    if (now >= this.windowStart + this.windowMs) {
      // Windows start on whole seconds, so the advertised reset is exact.
      this.windowStart = Math.floor(now / 1000) * 1000;
      this.used = 0;
    }
    const allowed = this.used < this.limit;
    if (allowed) this.used += 1;
    return {
      allowed,
      headers: {
        "X-Rate-Limit-Limit": String(this.limit),
        "X-Rate-Limit-Remaining": String(this.limit - this.used),
        "X-Rate-Limit-Reset": String(Math.ceil((this.windowStart + this.windowMs) / 1000)),
      },
    };
  }
}
