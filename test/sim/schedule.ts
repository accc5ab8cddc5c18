/**
 * What one seed does (pure): the Okta orgs, the events and how Okta delivers them
 * (retries of a delivery, an event in two deliveries, out of order, same-millisecond
 * publish times), the workflows they meet, and the faults injected on the way.
 */
import { Rng } from "./prng";

export const CREATE = "system.api_token.create";
export const REVOKE = "system.api_token.revoke";
/** Waited for by the `expires` workflow and never sent: its runs must time out. */
export const NEVER = "system.import.complete";

/** null is the single-org `/hooks/okta`; the others are OKTA_SOURCES of vitest.config.ts. */
export type Source = null | "acme" | "globex";

export interface SimEvent {
  uuid: string;
  source: Source;
  eventType: string;
  assetId: string;
  result: "SUCCESS" | "FAILURE";
  /** Epoch ms of Okta's `published`. */
  published: number;
}

export interface Delivery {
  eventId: string;
  source: Source;
  events: SimEvent[];
}

export type FaultKind =
  | "d1-error"
  | "d1-error-after"
  | "d1-latency"
  | "send-fail"
  | "msg-loss"
  | "msg-dup"
  | "reorder"
  | "room-down"
  | "room-reset"
  | "crash"
  | "cron-missing"
  | "cron-late"
  | "hostile-retry-after"
  | "terminate";

export const FAULT_KINDS: readonly FaultKind[] = [
  "d1-error",
  "d1-error-after",
  "d1-latency",
  "send-fail",
  "msg-loss",
  "msg-dup",
  "reorder",
  "room-down",
  "room-reset",
  "crash",
  "cron-missing",
  "cron-late",
  "hostile-retry-after",
  "terminate",
];

export interface Fault {
  kind: FaultKind;
  /** Which call (1-based, counted per kind of binding) it hits first. */
  at: number;
  /** How many calls in a row (outages). */
  span: number;
}

export interface Schedule {
  seed: number;
  /** Prefix of every asset ID of this seed: the workflows filter on it, so seeds never meet. */
  prefix: string;
  deliveries: Delivery[];
  events: SimEvent[];
  faults: Fault[];
}

/** The schedule of `seed`, with times relative to `now` (epoch ms). */
export function generate(seed: number, now: number): Schedule {
  const rng = new Rng(seed);
  const prefix = `sim${seed}x${Math.floor(now / 1000) % 100000}a`;
  const sources = rng.shuffle<Source>([null, "acme", "globex"]).slice(0, rng.int(1, 3));
  const assets = [`${prefix}0`, `${prefix}1`];
  // Triggers published a few minutes ago: the `expires` waits (60 s) are past their deadline.
  const base = now - 5 * 60_000;
  const events: SimEvent[] = [];
  const event = (eventType: string, published: number): SimEvent => ({
    uuid: crypto.randomUUID(),
    source: rng.pick(sources),
    eventType,
    assetId: rng.pick(assets),
    result: rng.chance(0.7) ? "SUCCESS" : "FAILURE",
    published,
  });
  for (let i = rng.int(1, 3); i > 0; i--) events.push(event(CREATE, base + rng.int(0, 30) * 1000));
  for (let i = rng.int(0, 4); i > 0; i--) {
    const last = events[events.length - 1];
    // Same millisecond as another event, as Okta stamps events of one batch.
    const published = last && rng.chance(0.4) ? last.published : base + rng.int(-20, 90) * 1000;
    events.push(event(REVOKE, published));
  }
  const deliveries: Delivery[] = [];
  for (const source of sources) {
    const own = events.filter((e) => e.source === source);
    while (own.length > 0) {
      const batch = own.splice(0, rng.int(1, 3));
      const delivery = { eventId: crypto.randomUUID(), source, events: batch };
      deliveries.push(delivery);
      // Okta retries a delivery it thinks failed (same eventId), or sends an event again in another.
      if (rng.chance(0.25)) deliveries.push(delivery);
      if (rng.chance(0.15)) deliveries.push({ eventId: crypto.randomUUID(), source, events: [rng.pick(batch)] });
    }
  }
  const faults: Fault[] = [];
  for (let i = rng.int(1, 2); i > 0; i--) {
    faults.push({ kind: rng.pick(FAULT_KINDS), at: rng.int(1, 12), span: rng.int(1, 6) });
  }
  return { seed, prefix, deliveries: rng.shuffle(deliveries), events, faults };
}
