/**
 * The counting of threshold triggers (src/workflows/count-window.ts) against a
 * brute-force oracle written from the rule as docs/workflows.md states it: after each
 * new event, the earliest window [t, t + within] (t an open event's time) that holds the
 * event and reaches the count fires and uses its events up. Random sequences with
 * repeats, equal timestamps and out-of-order arrival (fast-check).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byTime, type CountedEvent, type CountRule, countEvent } from "../src/workflows/count-window";
import { dryCount } from "../src/workflows/dry-count";

interface Fire {
  at: string;
  used: string[];
  counted: string[];
}

function reaches(window: readonly CountedEvent[], rule: CountRule): boolean {
  if (!rule.distinct) return window.length >= rule.count;
  return new Set(window.flatMap((e) => (e.value === null ? [] : [e.value]))).size >= rule.count;
}

/** The rule, brute force: every window start, in time order; no pointers, no pruning. */
function oracle(arrivals: readonly CountedEvent[], rule: CountRule): Fire[] {
  const fires: Fire[] = [];
  const seen = new Set<string>();
  let open: CountedEvent[] = [];
  for (const event of arrivals) {
    if (seen.has(event.uuid)) continue;
    seen.add(event.uuid);
    open = [...open, event].sort(byTime);
    if (rule.distinct && event.value === null) continue;
    const starts = [...new Set(open.map((e) => e.at))].sort((a, b) => a - b);
    for (const t of starts) {
      if (t > event.at || t < event.at - rule.withinMs) continue;
      const window = open.filter((e) => e.at >= t && e.at <= t + rule.withinMs);
      if (!reaches(window, rule)) continue;
      const firstOf = new Set<string>();
      const counted = rule.distinct
        ? window.filter((e) => e.value !== null && !firstOf.has(e.value) && firstOf.add(e.value))
        : window;
      fires.push({ at: event.uuid, used: window.map((e) => e.uuid), counted: counted.map((e) => e.uuid) });
      const used = new Set(window.map((e) => e.uuid));
      open = open.filter((e) => !used.has(e.uuid));
      break;
    }
  }
  return fires;
}

function counter(arrivals: readonly CountedEvent[], rule: CountRule): { fires: Fire[]; open: CountedEvent[] } {
  const fires: Fire[] = [];
  const seen = new Set<string>();
  const open: CountedEvent[] = [];
  for (const event of arrivals) {
    if (seen.has(event.uuid)) continue;
    seen.add(event.uuid);
    const reached = countEvent(open, event, rule);
    if (reached)
      fires.push({
        at: event.uuid,
        used: reached.used.map((e) => e.uuid),
        counted: reached.counted.map((e) => e.uuid),
      });
  }
  return { fires, open };
}

/** Events on a small time grid (so equal times and near windows are common), some delivered twice, shuffled. */
const arrivalsArb = fc
  .array(
    fc.record({ at: fc.integer({ min: 0, max: 40 }), value: fc.option(fc.constantFrom("a", "b", "c", "d", "e")) }),
    { maxLength: 40 },
  )
  .chain((events) => {
    const unique = events.map((e, i) => ({ uuid: `e${String(i).padStart(2, "0")}`, at: e.at * 1000, value: e.value }));
    return fc
      .array(fc.nat({ max: Math.max(0, unique.length - 1) }), { maxLength: unique.length ? 10 : 0 })
      .chain((repeats) =>
        fc.shuffledSubarray([...unique, ...repeats.map((i) => unique[i] as CountedEvent)], {
          minLength: unique.length + repeats.length,
        }),
      );
  });
const ruleArb = fc.record({
  count: fc.integer({ min: 2, max: 6 }),
  withinMs: fc.integer({ min: 1, max: 12 }).map((s) => s * 1000),
  distinct: fc.boolean(),
});

describe("count windows", () => {
  it("fire exactly as the brute-force oracle does, for any arrival order, repeats and ties", () => {
    fc.assert(
      fc.property(arrivalsArb, ruleArb, (arrivals, rule) => {
        expect(counter(arrivals, rule).fires).toEqual(oracle(arrivals, rule));
      }),
      { numRuns: 2000 },
    );
  });

  it("leave no window of open events at the count, and carry exactly the count", () => {
    fc.assert(
      fc.property(arrivalsArb, ruleArb, (arrivals, rule) => {
        const { fires, open } = counter(arrivals, rule);
        for (const t of open.map((e) => e.at)) {
          expect(
            reaches(
              open.filter((e) => e.at >= t && e.at <= t + rule.withinMs),
              rule,
            ),
          ).toBe(false);
        }
        for (const fire of fires) expect(fire.counted).toHaveLength(rule.count);
        const used = fires.flatMap((f) => f.used);
        expect(new Set(used).size).toBe(used.length);
      }),
      { numRuns: 2000 },
    );
  });

  it("five denied SMS from one IP within ten minutes: the fifth fires; a repeat and a sixth do not", () => {
    const rule = { count: 5, withinMs: 600_000, distinct: false };
    const minute = 60_000;
    const sms = [0, 2, 4, 6, 8].map((m, i) => ({ uuid: `sms${i}`, at: m * minute, value: null }));
    const { fires, open } = counter(
      [...sms, sms[4] as CountedEvent, { uuid: "sms5", at: 9 * minute, value: null }],
      rule,
    );
    expect(fires).toEqual([{ at: "sms4", used: sms.map((e) => e.uuid), counted: sms.map((e) => e.uuid) }]);
    expect(open.map((e) => e.uuid)).toEqual(["sms5"]);
  });
});

describe("a threshold's dry run", () => {
  const trigger = {
    category: "okta.system" as const,
    eventTypes: ["system.sms.send_phone_verification_message" as const],
    threshold: { count: 3, withinSeconds: 600, by: "client.ipAddress" as const },
  };
  const stored = (uuid: string, minute: number, ip: string | null, source: string | null = null) => ({
    uuid,
    fields: {
      id: "p1",
      type: "MobilePhone",
      alternateId: null,
      displayName: null,
      eventType: "system.sms.send_phone_verification_message",
      eventResult: "DENY",
      eventDate: new Date(Date.UTC(2026, 11, 4, 12, minute)).toISOString(),
      eventTimestamp: new Date(Date.UTC(2026, 11, 4, 12, minute)).toISOString(),
      source,
    },
    context: { actorId: null, actorAlternateId: null, clientIp: ip },
  });

  it("says whether the event completes a window from the stored events before it, of its key and org only", () => {
    const before = [
      stored("a", 1, "198.51.100.7"),
      stored("other-ip", 2, "198.51.100.8"),
      stored("other-org", 3, "198.51.100.7", "globex"),
      stored("b", 4, "198.51.100.7"),
    ];
    expect(dryCount(trigger, stored("c", 5, "198.51.100.7"), before)).toEqual({
      key: "198.51.100.7",
      matched: 3,
      fires: { n: 3, uuids: ["a", "b", "c"] },
    });
    expect(dryCount(trigger, stored("b", 4, "198.51.100.7"), before)).toMatchObject({ matched: 2, fires: null });
    expect(dryCount(trigger, stored("x", 5, null), before)).toEqual({ key: null });
  });
});
