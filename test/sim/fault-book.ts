/**
 * Decides, at each binding call, whether a fault of the plan fires now, and counts what
 * fired. The wrappers ask; only this file reads the plan's windows and probabilities.
 */
import type { SimClock } from "./clock";
import { active, type Fault, type FaultKind } from "./fault-plan";
import type { Rng } from "./prng";

/** The error every injected failure carries; vitest.config.ts keeps logs mentioning "injected" quiet. */
export class InjectedFault extends Error {}

export class FaultBook {
  readonly fired = new Map<FaultKind, number>();
  /** Set while a consumer invocation is dead: every binding call it still makes fails (nothing after death happens). */
  dead = false;
  /** Set while a consumer invocation runs that the plan may kill at one of its awaits. */
  private deathAt: number | null = null;
  private awaits = 0;
  /** Whether a consumer invocation (outermost) is running. */
  invoking = false;
  /** Binding calls (D1, WaitRoom) in flight: a hang-death waits for them to settle. */
  inFlight = 0;
  /** Simulated times at which a hang-death killed its consumer. */
  readonly deaths: number[] = [];

  constructor(
    readonly faults: readonly Fault[],
    private readonly clock: SimClock,
    private readonly r: Rng,
  ) {}

  get total(): number {
    return [...this.fired.values()].reduce((a, b) => a + b, 0);
  }

  has(kind: FaultKind): boolean {
    return this.faults.some((f) => f.kind === kind);
  }

  private hit(kind: FaultKind): void {
    this.fired.set(kind, (this.fired.get(kind) ?? 0) + 1);
  }

  private firing<K extends FaultKind>(kind: K): Extract<Fault, { kind: K }> | undefined {
    const now = this.clock.elapsed;
    for (const fault of this.faults) {
      if (fault.kind !== kind || !("from" in fault) || !active(fault, now)) continue;
      if ("p" in fault && !this.r.chance(fault.p)) continue;
      this.hit(kind);
      return fault as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }

  /** A consumer invocation starts: maybe it will die at its n-th binding await. */
  startInvocation(): void {
    this.invoking = true;
    this.dead = false;
    this.awaits = 0;
    this.deathAt = this.firing("consumer-death") ? this.r.int(1, 12) : null;
  }

  /** Puts the current invocation's fate aside while a nested one (a second consumer) runs. */
  suspend(): { dead: boolean; deathAt: number | null; awaits: number } {
    const saved = { dead: this.dead, deathAt: this.deathAt, awaits: this.awaits };
    this.dead = false;
    this.deathAt = null;
    return saved;
  }

  resume(saved: { dead: boolean; deathAt: number | null; awaits: number }): void {
    this.dead = saved.dead;
    this.deathAt = saved.deathAt;
    this.awaits = saved.awaits;
  }

  endInvocation(): boolean {
    this.invoking = false;
    const died = this.dead;
    this.dead = false;
    this.deathAt = null;
    return died;
  }

  /** Every binding call of a consumer passes here first: this is where it dies. */
  checkAlive(what: string): void {
    if (this.dead) throw new InjectedFault(`consumer is dead (injected), at ${what}`);
    if (this.deathAt === null) return;
    this.awaits += 1;
    if (this.awaits >= this.deathAt) {
      this.dead = true;
      throw new InjectedFault(`consumer died (injected), at ${what}`);
    }
  }

  d1(): { fail: "before" | "after" | null; latencyMs: number } {
    const blip = this.invoking ? this.blip() : null;
    if (blip) return { fail: blip, latencyMs: 0 };
    const error = this.firing("d1-error");
    const latency = this.firing("d1-latency");
    return { fail: error?.when ?? null, latencyMs: latency?.ms ?? 0 };
  }

  /** What happens to one queue send: it fails, or is accepted and then lost, duplicated or delayed. */
  send(): { fail: boolean; lose: boolean; duplicate: boolean; delayMs: number } {
    const delay = this.firing("message-delay");
    return {
      fail: this.firing("send-fail") !== undefined,
      lose: this.firing("message-loss") !== undefined,
      duplicate: this.firing("message-dup") !== undefined,
      delayMs: delay ? this.r.int(0, delay.maxMs) : 0,
    };
  }

  waitRoom(): "before" | "after" | null {
    return this.firing("waitroom")?.when ?? null;
  }

  /** Whether the cron pass due at `elapsed` runs, and at what offset from its minute. */
  cron(elapsed: number): { run: boolean; offsetMs: number } {
    for (const fault of this.faults) {
      if (fault.kind !== "cron" || !active(fault, elapsed)) continue;
      this.hit("cron");
      if (fault.mode === "missing") return { run: false, offsetMs: 0 };
      return { run: true, offsetMs: fault.mode === "early" ? -this.r.int(1, 30_000) : this.r.int(1, 50_000) };
    }
    return { run: true, offsetMs: 0 };
  }

  /** A clock jump due in (from, to]: how far to jump. */
  clockJump(from: number, to: number): number {
    let ms = 0;
    for (const fault of this.faults) {
      if (fault.kind === "clock-jump" && fault.at > from && fault.at <= to) {
        this.hit("clock-jump");
        ms += fault.ms;
      }
    }
    return ms;
  }

  private consumerStatements = 0;
  /** A d1-blip due at this consumer D1 statement: counts each statement a consumer makes. */
  private blip(): "before" | "after" | null {
    this.consumerStatements += 1;
    for (const fault of this.faults) {
      if (fault.kind === "d1-blip" && fault.nth === this.consumerStatements) {
        this.hit("d1-blip");
        return fault.when;
      }
    }
    return null;
  }

  /** Kills the current consumer invocation now (hang-death): its later binding calls fail, nothing is acked. */
  kill(): void {
    this.dead = true;
    this.deaths.push(this.clock.now);
  }

  /** Counts a fault that the outside world or the runner applied (hostile answers, slow actions, terminate). */
  record(kind: FaultKind): void {
    this.hit(kind);
  }
}
