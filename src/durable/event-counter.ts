/**
 * One EventCounter per (workflow, source, key) of a threshold trigger: it counts the
 * key's matching events (workflows/count-window.ts) and says which of them complete a
 * window. Counting is per key on the edge, so a key's events are counted one at a
 * time without a D1 round trip per event, and keys never contend.
 *
 * Exactly once, with the consumer's retries: an event already counted is not counted
 * again, and an event that fired answers with the same window every time it is asked
 * again (the consumer may have died before starting its run; the run is unique per
 * (workflow, event), so the repeat starts nothing twice).
 *
 * Bounded: open events are kept for two windows behind the newest (count-window.ts), the
 * uuids seen and the fires for max(two windows, an hour) and at most MAX_SEEN of them; an
 * idle counter deletes itself when that time has passed since its last event.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { byTime, type CountedEvent, countEvent, keepFrom } from "../workflows/count-window";

/** Repeats are recognised among this many of the key's most recent events. */
export const MAX_SEEN = 10_000;
/** Events per call. */
export const MAX_BATCH = 1000;
const MIN_MEMORY_MS = 3600_000;

const Counted = z.object({ uuid: z.string().min(1).max(200), at: z.number().finite(), value: z.string().nullable() });

export const CountRequest = z.object({
  rule: z.object({
    count: z.number().int().min(1),
    withinMs: z.number().int().min(1),
    distinct: z.boolean(),
  }),
  /** In the order they arrived. */
  events: z.array(Counted).max(MAX_BATCH),
});
export type CountRequest = z.infer<typeof CountRequest>;

export interface Fired {
  uuid: string;
  used: string[];
  counted: CountedEvent[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS open (uuid TEXT PRIMARY KEY, at INTEGER NOT NULL, value TEXT);
CREATE TABLE IF NOT EXISTS seen (uuid TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_at ON seen (at);
CREATE TABLE IF NOT EXISTS fires (uuid TEXT PRIMARY KEY, at INTEGER NOT NULL, used TEXT NOT NULL, counted TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

export class EventCounter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** The key's open events, sorted by byTime; the store's copy, kept in memory. */
  private readonly open: CountedEvent[];
  private readonly seen = new Map<string, number>();
  private readonly fires = new Map<string, Fired>();
  private newestAt = Number.NEGATIVE_INFINITY;
  /** When the idle check is set for (null: none); set once, and moved on by the alarm itself. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    this.open = this.sql
      .exec<{ uuid: string; at: number; value: string | null }>("SELECT uuid, at, value FROM open")
      .toArray()
      .sort(byTime);
    for (const row of this.sql.exec<{ uuid: string; at: number }>("SELECT uuid, at FROM seen")) {
      this.seen.set(row.uuid, row.at);
      this.newestAt = Math.max(this.newestAt, row.at);
    }
    for (const row of this.sql.exec<{ uuid: string; used: string; counted: string }>(
      "SELECT uuid, used, counted FROM fires",
    )) {
      this.fires.set(row.uuid, { uuid: row.uuid, used: JSON.parse(row.used), counted: JSON.parse(row.counted) });
    }
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Counts the events (repeats answer as they did the first time) and returns those that completed a window. */
  async count(input: unknown): Promise<{ fired: Fired[] }> {
    const parsed = CountRequest.safeParse(input);
    if (!parsed.success) throw new TypeError(`EventCounter.count: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const { rule, events } = parsed.data;
    const fired: Fired[] = [];
    for (const event of events) {
      const before = this.fires.get(event.uuid);
      if (before) {
        fired.push(before);
        continue;
      }
      if (this.seen.has(event.uuid)) continue;
      this.seen.set(event.uuid, event.at);
      this.newestAt = Math.max(this.newestAt, event.at);
      this.sql.exec("INSERT OR IGNORE INTO seen (uuid, at) VALUES (?, ?)", event.uuid, event.at);
      const reached = countEvent(this.open, event, rule);
      if (!reached) {
        this.sql.exec(
          "INSERT OR IGNORE INTO open (uuid, at, value) VALUES (?, ?, ?)",
          event.uuid,
          event.at,
          event.value,
        );
        continue;
      }
      const fire = { uuid: event.uuid, used: reached.used.map((e) => e.uuid), counted: reached.counted };
      this.fires.set(event.uuid, fire);
      this.sql.exec(
        "INSERT OR REPLACE INTO fires (uuid, at, used, counted) VALUES (?, ?, ?, ?)",
        event.uuid,
        event.at,
        JSON.stringify(fire.used),
        JSON.stringify(fire.counted),
      );
      this.sql.exec("DELETE FROM open WHERE uuid IN (SELECT value FROM json_each(?))", JSON.stringify(fire.used));
      fired.push(fire);
    }
    this.prune(rule.withinMs);
    // An idle key goes away once its memory has passed since its last event: the alarm
    // is set once and, when it fires early (events came since), set again from here.
    const idleAt = Date.now() + this.memoryMs(rule.withinMs);
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('idleAt', ?)", idleAt);
    if (this.alarmAt === null) {
      this.alarmAt = idleAt;
      await this.ctx.storage.setAlarm(idleAt);
    }
    return { fired };
  }

  override async alarm(): Promise<void> {
    const idleAt = this.sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'idleAt'").toArray()[0]?.value;
    if (idleAt !== undefined && idleAt > Date.now()) {
      this.alarmAt = idleAt;
      await this.ctx.storage.setAlarm(idleAt);
      return;
    }
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too: the next event finds them again.
    this.sql.exec(SCHEMA);
    this.alarmAt = null;
    this.open.length = 0;
    this.seen.clear();
    this.fires.clear();
    this.newestAt = Number.NEGATIVE_INFINITY;
  }

  /** What the counter holds, for tests and for the bounds printed by the benchmark. */
  async size(): Promise<{ open: number; seen: number; fires: number; bytes: number }> {
    return {
      open: this.open.length,
      seen: this.seen.size,
      fires: this.fires.size,
      bytes: this.ctx.storage.sql.databaseSize,
    };
  }

  private memoryMs(withinMs: number): number {
    return Math.max(2 * withinMs, MIN_MEMORY_MS);
  }

  private prune(withinMs: number): void {
    const openFrom = keepFrom(this.newestAt, withinMs);
    if ((this.open[0]?.at ?? openFrom) < openFrom) {
      const drop = this.open.findIndex((e) => e.at >= openFrom);
      this.open.splice(0, drop < 0 ? this.open.length : drop);
      this.sql.exec("DELETE FROM open WHERE at < ?", openFrom);
    }
    let seenFrom = this.newestAt - this.memoryMs(withinMs);
    if (this.seen.size > MAX_SEEN) {
      // Too many to remember: the oldest go first.
      const times = [...this.seen.values()].sort((a, b) => b - a);
      seenFrom = Math.max(seenFrom, (times[MAX_SEEN - 1] ?? seenFrom) + 1);
    }
    let dropped = false;
    for (const [uuid, at] of this.seen) {
      if (at >= seenFrom) continue;
      this.seen.delete(uuid);
      this.fires.delete(uuid);
      dropped = true;
    }
    if (dropped) {
      this.sql.exec("DELETE FROM seen WHERE at < ?", seenFrom);
      this.sql.exec("DELETE FROM fires WHERE at < ?", seenFrom);
    }
  }
}
