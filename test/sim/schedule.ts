/**
 * One seed's schedule: the Okta events (with their sources and assets), the deliveries
 * that carry them (batches, Okta retries, duplicates, out of order), and the faults.
 * Times are milliseconds from the start of the seed's simulated clock.
 */
import { drawFaults, type Fault, type FaultKind } from "./fault-plan";
import { type Rng, rng, uuidFrom } from "./prng";
import { TYPES, WAIT_TIMEOUT_S, type WorkflowKey } from "./workflows";

/** Hook paths: null is /hooks/okta (the single-org hook), the others are named sources (vitest.config.ts). */
export type Source = null | "acme" | "globex";
export const SOURCES: readonly Source[] = [null, "acme", "globex"];

export interface SimEvent {
  uuid: string;
  source: Source;
  assetId: string;
  eventType: string;
  /** Okta's `published`, ms from the seed's start. */
  published: number;
  result: "SUCCESS" | "FAILURE";
  /** The workflow this event was drawn to start, if it is a trigger (for reading reports). */
  story?: WorkflowKey;
}

export interface Delivery {
  at: number;
  source: Source;
  /** Okta's delivery id (eventId); a retry of a delivery keeps it. */
  deliveryId: string;
  uuids: string[];
}

export interface Schedule {
  seed: number;
  /** Every asset id of this seed starts with it; the workflows filter on it. */
  prefix: string;
  events: SimEvent[];
  deliveries: Delivery[];
  faults: Fault[];
  /** When the last delivery is due. */
  end: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Narrowing a seed's draws (`npm run sim -- --faults a,b --plain`); a replay must repeat them. */
export interface ScheduleOptions {
  /** Draw faults only of these kinds. */
  faults?: readonly FaultKind[];
  /** No events from another source on a waited asset, no same-millisecond events: only the faults can break a run. */
  plain?: boolean;
}

export function generateSchedule(seed: number, nonce: string, options: ScheduleOptions = {}): Schedule {
  const r = rng(seed);
  const prefix = `sim${seed}x${nonce}-`;
  const sources = [...SOURCES].sort(() => r.next() - 0.5).slice(0, r.int(2, 3));
  const assets = Array.from({ length: r.int(2, 3) }, (_, i) => `${prefix}a${i}`);
  const events: SimEvent[] = [];
  const deliveries: Delivery[] = [];
  // Faults are drawn first (from their own stream), so a fault that needs a shape of schedule gets it.
  const faults = drawFaults(r.fork("faults"), 10 * MINUTE, options.faults);
  const needs = (kind: string) => faults.some((f) => f.kind === kind);
  const newEvent = (e: Omit<SimEvent, "uuid">) => {
    const event = { uuid: uuidFrom(r), ...e };
    events.push(event);
    return event;
  };

  const stories = r.int(3, 7);
  for (let i = 0; i < stories; i++) {
    const drawn = r.pick<WorkflowKey>(["one", "branch", "wait", "wait", "triple", "two"]);
    const story = i === 0 && needs("slow-action") ? "two" : drawn;
    const source = r.pick(sources);
    // Shared asset ids across sources are real (rate-limit assets are URL patterns, the same in every org);
    // a plain schedule keeps each source on its own assets.
    const picked = r.pick(assets);
    const assetId = options.plain ? `${picked}-${source ?? "default"}` : picked;
    const at = r.int(0, 8 * MINUTE);
    const trigger = newEvent({
      source,
      assetId,
      eventType: triggerType(story),
      published: at,
      result: r.chance(0.6) ? "SUCCESS" : "FAILURE",
      story,
    });
    if (story === "wait") waitEvents(r, trigger, options.plain ? [] : sources, newEvent);
    if (story === "triple") tripleEvents(r, trigger, newEvent, options.plain ?? false);
  }
  // A burst: one delivery starting several one-action runs at once (one consumer batch, six call slots).
  if (r.chance(0.35) || needs("terminate-queued") || needs("hang-death")) {
    const source = r.pick(sources);
    const at = r.int(0, 5 * MINUTE);
    const burst = Array.from({ length: 8 }, (_, i) =>
      newEvent({
        source,
        assetId: `${prefix}b${i}`,
        eventType: TYPES.one,
        published: at,
        result: "SUCCESS",
        story: "one",
      }),
    );
    deliveries.push({ at: at + SECOND, source, deliveryId: uuidFrom(r), uuids: burst.map((e) => e.uuid) });
  }

  // Okta delivers each event a little after it was published, batching what one org has ready.
  const undelivered = events.filter((e) => !deliveries.some((d) => d.uuids.includes(e.uuid)));
  for (const source of sources) {
    const mine = undelivered.filter((e) => e.source === source).sort((a, b) => a.published - b.published);
    while (mine.length > 0) {
      const batch = mine.splice(0, r.int(1, 3));
      const last = Math.max(...batch.map((e) => e.published));
      // Out of order: now and then a delivery arrives before an earlier one.
      const delay = r.chance(0.15) ? r.int(20, 90) * SECOND : r.int(0, 5) * SECOND;
      deliveries.push({ at: last + delay, source, deliveryId: uuidFrom(r), uuids: batch.map((e) => e.uuid) });
    }
  }
  for (const delivery of [...deliveries]) {
    // Okta re-sends a delivery it was not sure of (same eventId), or sends an event again in another.
    if (r.chance(0.15)) deliveries.push({ ...delivery, at: delivery.at + r.int(10, 60) * SECOND });
    if (r.chance(0.08))
      deliveries.push({ ...delivery, at: delivery.at + r.int(1, 30) * SECOND, deliveryId: uuidFrom(r) });
  }
  deliveries.sort((a, b) => a.at - b.at);
  const end = Math.max(0, ...deliveries.map((d) => d.at));
  return { seed, prefix, events, deliveries, faults, end };
}

function triggerType(story: WorkflowKey): string {
  return { one: TYPES.one, branch: TYPES.branch, wait: TYPES.wait, triple: TYPES.triple, two: TYPES.two }[story];
}

type NewEvent = (e: Omit<SimEvent, "uuid">) => SimEvent;

/** What a waiting run may see: an answer in time, one long after its deadline, or one from another org on the same asset. */
function waitEvents(r: Rng, trigger: SimEvent, sources: readonly Source[], newEvent: NewEvent): void {
  const base = { assetId: trigger.assetId, eventType: TYPES.waitFor, result: "SUCCESS" as const };
  const roll = r.next();
  if (roll < 0.45) newEvent({ ...base, source: trigger.source, published: trigger.published + r.int(5, 180) * SECOND });
  else if (roll < 0.65)
    // Well past any deadline (the pause is at most minutes after the trigger): the timeout must win.
    newEvent({
      ...base,
      source: trigger.source,
      published: trigger.published + (WAIT_TIMEOUT_S + r.int(180, 400)) * SECOND,
    });
  const other = sources.find((s) => s !== trigger.source);
  if (r.chance(0.4) && other !== undefined)
    newEvent({ ...base, source: other, published: trigger.published + r.int(5, 120) * SECOND });
}

/** Events for three waits in a row, sometimes two in the same millisecond (Okta does this). */
function tripleEvents(r: Rng, trigger: SimEvent, newEvent: NewEvent, plain: boolean): void {
  const base = {
    source: trigger.source,
    assetId: trigger.assetId,
    eventType: TYPES.tripleFor,
    result: "SUCCESS" as const,
  };
  const at = trigger.published + r.int(5, 60) * SECOND;
  const count = r.int(1, 3);
  const sameMs = r.chance(0.6) && !plain;
  for (let i = 0; i < count; i++) newEvent({ ...base, published: sameMs ? at : at + i * r.int(1, 20) * SECOND + i });
}
