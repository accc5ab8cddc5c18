/**
 * The fault menu, and how a seed draws from it: one fault most of the time, sometimes
 * two or three. Each fault is plain data (a window of simulated time and a probability),
 * applied by the wrappers in bindings.ts, transport.ts, outside.ts and the runner.
 */
import type { Rng } from "./prng";

export type Fault =
  /** D1 statements fail; "after": the statement took effect but the caller sees an error. */
  | { kind: "d1-error"; from: number; to: number; p: number; when: "before" | "after" }
  | { kind: "d1-latency"; from: number; to: number; ms: number }
  /** Queue sends (event, run and resume messages alike) fail. An outage past 5 cron passes is finding 1. */
  | { kind: "send-fail"; from: number; to: number; p: number }
  /** A message accepted by the queue is never delivered. */
  | { kind: "message-loss"; from: number; to: number; p: number }
  | { kind: "message-dup"; from: number; to: number; p: number }
  /** Messages are delivered late, and so out of order. */
  | { kind: "message-delay"; from: number; to: number; p: number; maxMs: number }
  /** WaitRoom calls fail: before reaching it (unreachable) or after it acted (reset mid-call). */
  | { kind: "waitroom"; from: number; to: number; p: number; when: "before" | "after" }
  /** A consumer invocation dies at its n-th await on a binding: no ack, nothing after that point happens. */
  | { kind: "consumer-death"; from: number; to: number; p: number }
  | { kind: "cron"; from: number; to: number; mode: "early" | "late" | "missing" }
  | { kind: "clock-jump"; at: number; ms: number }
  /** The outside world answers the first call of a workflow's actions with a hostile Retry-After (findings 2, 3). */
  | { kind: "hostile-retry-after"; workflow: "one" | "branch" | "two"; value: string }
  /** The first action of `two` hangs past the lease while the run is handed to a second consumer (finding 8). */
  | { kind: "slow-action" }
  /** A run of a burst is terminated through the API while its call is queued behind others (finding 7). */
  | { kind: "terminate-queued" }
  /**
   * One call of a burst hangs until the rest of its consumer has gone quiet (the other calls
   * answered), and then the consumer dies (finding 9: outcomes held for the round die with it).
   */
  | { kind: "hang-death" }
  /**
   * The n-th D1 statement made by a consumer fails, once, and nothing else goes wrong
   * (finding 10: the queue's retry must carry on at once, not find the failed attempt's lease).
   */
  | { kind: "d1-blip"; nth: number; when: "before" | "after" };

export type FaultKind = Fault["kind"];

export const FAULT_KINDS: readonly FaultKind[] = [
  "d1-error",
  "d1-latency",
  "send-fail",
  "message-loss",
  "message-dup",
  "message-delay",
  "waitroom",
  "consumer-death",
  "cron",
  "clock-jump",
  "hostile-retry-after",
  "slow-action",
  "terminate-queued",
  "hang-death",
  "d1-blip",
];

const MINUTE = 60_000;

/** Draws the seed's faults; `end` is when its last delivery is due. `only` restricts the menu (tests, --fault). */
export function drawFaults(r: Rng, end: number, only?: readonly FaultKind[]): Fault[] {
  const menu = only ?? FAULT_KINDS;
  const count = r.chance(0.7) ? 1 : r.int(2, 3);
  return Array.from({ length: count }, () => drawFault(r, r.pick(menu), end));
}

/** A window starting in the busy part of the schedule (deliveries end near `end`). */
function window(r: Rng, end: number, maxMs: number): { from: number; to: number } {
  const from = r.int(0, Math.max(0, Math.floor(end * 0.7)));
  return { from, to: from + r.int(Math.min(60_000, maxMs), maxMs) };
}

export function drawFault(r: Rng, kind: FaultKind, end: number): Fault {
  switch (kind) {
    case "d1-error":
      return { kind, ...window(r, end, 3 * MINUTE), p: r.pick([0.1, 0.3, 1]), when: r.pick(["before", "after"]) };
    case "d1-latency":
      return { kind, ...window(r, end, 5 * MINUTE), ms: r.int(1, 25) };
    case "send-fail":
      // Now and then a long outage: more than five cron passes.
      return r.chance(0.4)
        ? { kind, from: 0, to: r.int(6, 9) * MINUTE, p: 1 }
        : { kind, ...window(r, end, 3 * MINUTE), p: r.pick([0.2, 0.5, 1]) };
    case "message-loss":
    case "message-dup":
      return { kind, ...window(r, end, 5 * MINUTE), p: r.pick([0.2, 0.5, 1]) };
    case "message-delay":
      return { kind, ...window(r, end, 5 * MINUTE), p: r.pick([0.3, 1]), maxMs: r.int(5, 180) * 1000 };
    case "waitroom":
      return { kind, ...window(r, end, 8 * MINUTE), p: r.pick([0.3, 1]), when: r.pick(["before", "after"]) };
    case "consumer-death":
      return { kind, ...window(r, end, 10 * MINUTE), p: r.pick([0.3, 0.6]) };
    case "cron":
      return { kind, ...window(r, end, 10 * MINUTE), mode: r.pick(["early", "late", "missing"]) };
    case "clock-jump":
      return { kind, at: r.int(0, Math.max(0, end)), ms: r.int(2, 20) * MINUTE };
    case "hostile-retry-after":
      return {
        kind,
        workflow: r.pick(["one", "branch", "two"]),
        value: r.pick(["99999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"]),
      };
    case "d1-blip":
      return { kind, nth: r.int(2, 16), when: r.pick(["before", "after"]) };
    case "slow-action":
    case "terminate-queued":
    case "hang-death":
      return { kind };
  }
}

/** Whether a windowed fault covers `now`. */
export function active(fault: { from: number; to: number }, now: number): boolean {
  return now >= fault.from && now < fault.to;
}
