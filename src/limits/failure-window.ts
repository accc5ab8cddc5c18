/**
 * The failed-credentials limit (pure): per client address and scope, a fixed window
 * opens at the first failure and lasts 10 minutes; an address that has failed 10 times
 * in it is refused until it ends. Only failures are counted, and a refused attempt is
 * not counted again (the window does not move).
 */
export const FAILURE_LIMIT = 10;
export const FAILURE_WINDOW_MS = 10 * 60_000;

export interface FailureWindow {
  /** Epoch ms of the first failure of the window. */
  startedAt: number;
  failures: number;
}

export type Limit = { blocked: false } | { blocked: true; retryAfterSeconds: number };

const isOpen = (window: FailureWindow | null, now: number): window is FailureWindow =>
  window !== null && now >= window.startedAt && now < window.startedAt + FAILURE_WINDOW_MS;

/** Whether an attempt at `now` is refused; Retry-After is clamped to 1 s..the window's length. */
export function limitAt(window: FailureWindow | null, now: number): Limit {
  if (!isOpen(window, now) || window.failures < FAILURE_LIMIT) return { blocked: false };
  const seconds = Math.ceil((window.startedAt + FAILURE_WINDOW_MS - now) / 1000);
  return { blocked: true, retryAfterSeconds: Math.min(FAILURE_WINDOW_MS / 1000, Math.max(1, seconds)) };
}

/** The window after a failure at `now`: the open one counted up, or a new one (also for a start in the future). */
export function countFailure(window: FailureWindow | null, now: number): FailureWindow {
  return isOpen(window, now) ? { ...window, failures: window.failures + 1 } : { startedAt: now, failures: 1 };
}
