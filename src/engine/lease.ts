/**
 * The run lease: one consumer at a time executes a run. Two deliveries of the same
 * message (or a run message racing a resume) would otherwise execute a step twice.
 * A lease has an owner, a token fresh for every attempt, that every write of the
 * holder names (db/run-writes.ts), and the message it was taken for, whose retry may
 * take it back at once instead of waiting it out.
 */

/**
 * How long one consumer may hold a run without writing. Every claim of an action
 * renews it, and an invocation makes no claim after its budget (executor.ts), so a
 * holder never calls with a lease that ran out.
 */
export const LEASE_MS = 5 * 60_000;

/** A message for a run another consumer holds comes back when that lease ends (at least 5 s, at most the lease). */
export function leaseBusyDelaySeconds(leaseUntil: string | null, now: Date): number {
  const left = leaseUntil ? Date.parse(leaseUntil) - now.getTime() : 0;
  return Math.min(LEASE_MS / 1000, Math.max(5, Math.ceil(left / 1000)));
}
