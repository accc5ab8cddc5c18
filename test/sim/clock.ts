/**
 * Simulated time. The engine reads the time only through Date (new Date(), Date.now()),
 * in the Worker and in the WaitRoom alike (both run in this isolate under the test
 * runner), so vitest's fake Date moves it; timers stay real, so awaits still resolve.
 */
import { vi } from "vitest";

export class SimClock {
  private current: number;

  constructor(readonly base: number) {
    this.current = base;
    vi.useFakeTimers({ toFake: ["Date"], now: base });
  }

  /** ms since the seed's start. */
  get elapsed(): number {
    return this.current - this.base;
  }

  get now(): number {
    return this.current;
  }

  /** Moves the clock to `at` (absolute ms); never backwards. */
  set(at: number): void {
    if (at <= this.current) return;
    this.current = at;
    vi.setSystemTime(at);
  }

  /** One millisecond on: every outbound call and D1 statement takes one, so "after" is a strict order. */
  tick(ms = 1): number {
    this.set(this.current + ms);
    return this.current;
  }

  static restore(): void {
    vi.useRealTimers();
  }
}
