/**
 * Failed credentials, limited per client address: the Worker's side of FailureLimiter.
 * Two budgets: "admin" (the admin token, on POST /login and /api/*) and "hook" (hook
 * secrets). Only a failure costs a Durable Object call before it is answered, and
 * only the admin token's successes ask whether the address is blocked, so a good
 * Okta delivery never waits on the limiter.
 */
import { AppError } from "../errors";
import { clientKey } from "./client-key";
import type { Limit } from "./failure-window";

export type CredentialScope = "admin" | "hook";

export const CLIENT_IP_HEADER = "cf-connecting-ip";

function limiter(env: Env, scope: CredentialScope, ip: string | undefined) {
  return env.FAILURE_LIMITERS.get(env.FAILURE_LIMITERS.idFromName(`${scope}:${clientKey(ip)}`));
}

/** Whether the address is refused now (counts nothing). */
export function failureLimit(env: Env, scope: CredentialScope, ip: string | undefined): Promise<Limit> {
  return limiter(env, scope, ip).check();
}

/** Counts a failed credential; says whether the address was already refused when it arrived. */
export function recordFailure(env: Env, scope: CredentialScope, ip: string | undefined): Promise<Limit> {
  return limiter(env, scope, ip).recordFailure();
}

/** The 429 of a blocked address, in the one error shape, with Retry-After. */
export function tooManyFailures(limit: { retryAfterSeconds: number }): AppError {
  return new AppError(
    429,
    "rate_limited",
    `too many failed attempts from this address; try again in ${limit.retryAfterSeconds} s`,
    { "Retry-After": String(limit.retryAfterSeconds) },
  );
}
