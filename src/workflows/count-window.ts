/**
 * The counting of a threshold trigger, for one key. Pure: the EventCounter (durable/
 * counter.ts) keeps the state, the dry run replays stored events through it, and the
 * property tests hold it against a brute-force oracle.
 *
 * An event fires when, with it, some window of `withinMs` (by the events' published
 * times, not their arrival: Okta delivers out of order) holds `count` events not yet
 * counted towards a run, or events with `count` distinct non-null values. The events
 * of that window are then used up: the next run needs `count` new ones. Of the windows
 * that reach the count, the earliest is taken. So after every event, no window of the
 * events still open reaches the count.
 */

export interface CountedEvent {
  uuid: string;
  /** Published time, ms. */
  at: number;
  /** The value counted distinct (null: the event counts towards plain counts only). */
  value: string | null;
}

export interface CountRule {
  count: number;
  withinMs: number;
  distinct: boolean;
}

/** Sorts by time, then uuid, so that every replica of the same events picks the same window. */
export function byTime(a: CountedEvent, b: CountedEvent): number {
  return a.at - b.at || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

/** A window `latest` completed: its events, all used up, and those that made the count. */
export interface ReachedWindow {
  used: CountedEvent[];
  /** The events counted: all of `used`, or for a distinct count the first event of each value. */
  counted: CountedEvent[];
}

/**
 * The window `latest` completes, or null. `open` are the key's events not yet used up,
 * sorted by byTime, including `latest`. Before `latest`, no window of `open` reached the
 * count, so a window that reaches it now holds `latest` and exactly `count` events (or
 * values): what a run carries is bounded by the count.
 */
export function windowReached(
  open: readonly CountedEvent[],
  latest: CountedEvent,
  rule: CountRule,
): ReachedWindow | null {
  if (rule.distinct && latest.value === null) return null;
  const from = latest.at - rule.withinMs;
  const to = latest.at + rule.withinMs;
  const near = open.filter((e) => e.at >= from && e.at <= to);
  const latestIndex = near.findIndex((e) => e.uuid === latest.uuid);
  if (latestIndex < 0) return null;
  // Two pointers over the windows [near[start].at, near[start].at + withinMs] that hold `latest`.
  const values = new Map<string, number>();
  let end = 0;
  for (let start = 0; start <= latestIndex; start++) {
    const first = near[start] as CountedEvent;
    while (end < near.length && (near[end] as CountedEvent).at <= first.at + rule.withinMs) {
      const value = (near[end] as CountedEvent).value;
      if (value !== null) values.set(value, (values.get(value) ?? 0) + 1);
      end++;
    }
    const reached = rule.distinct ? values.size >= rule.count : end - start >= rule.count;
    if (end > latestIndex && reached) {
      const used = near.slice(start, end);
      return { used, counted: rule.distinct ? firstOfEachValue(used) : used };
    }
    if (first.value !== null) {
      const left = (values.get(first.value) ?? 1) - 1;
      if (left === 0) values.delete(first.value);
      else values.set(first.value, left);
    }
  }
  return null;
}

function firstOfEachValue(window: readonly CountedEvent[]): CountedEvent[] {
  const seen = new Set<string>();
  return window.filter((e) => {
    if (e.value === null || seen.has(e.value)) return false;
    seen.add(e.value);
    return true;
  });
}

/**
 * Open events are kept for two windows behind the newest: an event up to one window late
 * still completes a window with those before it. Older ones can no longer matter to any
 * event that is not itself more than a window late.
 */
export function keepFrom(newestAt: number, withinMs: number): number {
  return newestAt - 2 * withinMs;
}

/**
 * Counts one new event (not a repeat: the caller knows what it has seen) into `open`
 * (sorted by byTime; updated in place) and returns the window it completed, whose events
 * are then no longer open.
 */
export function countEvent(open: CountedEvent[], event: CountedEvent, rule: CountRule): ReachedWindow | null {
  let at = open.length;
  while (at > 0 && byTime(open[at - 1] as CountedEvent, event) > 0) at--;
  open.splice(at, 0, event);
  const reached = windowReached(open, event, rule);
  if (reached) {
    const used = new Set(reached.used.map((e) => e.uuid));
    let kept = 0;
    for (const e of open) if (!used.has(e.uuid)) open[kept++] = e;
    open.length = kept;
  }
  return reached;
}
