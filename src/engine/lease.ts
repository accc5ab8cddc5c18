/**
 * The run lease: one consumer at a time executes a run. Two deliveries of the same
 * message (or a run message racing a resume) would otherwise execute a step twice.
 */

/** How long one consumer may hold a run: longer than an action's worst case (6 attempts of 30 s plus backoff). Renewed each round. */
export const LEASE_MS = 5 * 60_000;

/** A message for a run another consumer holds comes back when that lease ends (at least 5 s, at most the lease). */
export function leaseBusyDelaySeconds(leaseUntil: string | null, now: Date): number {
  const left = leaseUntil ? Date.parse(leaseUntil) - now.getTime() : 0;
  return Math.min(LEASE_MS / 1000, Math.max(5, Math.ceil(left / 1000)));
}
