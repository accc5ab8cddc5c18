/**
 * Fault wrappers around the engine's bindings: D1 (errors before or after a statement
 * took effect, latency) and the WaitRoom namespace (unreachable, or reset after the call
 * reached it). Every call also passes FaultBook.checkAlive, where a consumer invocation
 * the plan kills dies at one of its awaits. The WaitRoom gets the simulator's queues in
 * place of its own env bindings (the test-support style of withWaitRoomBindings), so its
 * resume messages also travel through the sim transport.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { WaitRoom } from "../../src/durable/wait-room";
import type { SimClock } from "./clock";
import { eventsOfRoomCall, waitsOfRoomCall } from "./engine-view";
import { type FaultBook, InjectedFault } from "./fault-book";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function simD1(real: D1Database, book: FaultBook, clock: SimClock): D1Database {
  const realOf = new WeakMap<object, D1PreparedStatement>();
  const guard = async <T>(what: string, exec: () => Promise<T>): Promise<T> => {
    book.checkAlive(`D1 ${what}`);
    book.inFlight += 1;
    try {
      const { fail, latencyMs } = book.d1();
      if (latencyMs > 0) await sleep(latencyMs);
      clock.tick();
      if (fail === "before") throw new InjectedFault(`D1_ERROR: ${what} failed (injected)`);
      const result = await exec();
      if (fail === "after") throw new InjectedFault(`D1_ERROR: network lost after ${what} (injected)`);
      return result;
    } finally {
      book.inFlight -= 1;
    }
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => guard("first", () => (column ? statement.first(column) : statement.first())),
      run: () => guard("run", () => statement.run()),
      all: () => guard("all", () => statement.all()),
      raw: (options?: { columnNames?: boolean }) =>
        guard("raw", () => (options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw())),
    };
    realOf.set(wrapped, statement);
    return wrapped as unknown as D1PreparedStatement;
  };
  const db = {
    prepare: (query: string) => wrap(real.prepare(query)),
    batch: (statements: D1PreparedStatement[]) =>
      guard("batch", () => real.batch(statements.map((s) => realOf.get(s) ?? s))),
    exec: (query: string) => guard("exec", () => real.exec(query)),
    dump: () => real.dump(),
    withSession: () => db,
  };
  return db as unknown as D1Database;
}

type Rooms = DurableObjectNamespace<WaitRoom>;

/** What the harness saw of the WaitRooms: every room name asked for, and when each event first reached a room. */
export interface RoomLog {
  names: Map<string, DurableObjectId>;
  reached: Map<string, number>;
  /** When each wait (`runId:nodeId`) first reached its room. */
  registered: Map<string, number>;
  /** The rooms each event was handed to (to tell a wrong room from a late event). */
  rooms: Map<string, Set<string>>;
  /** Each room's alarm as last read (absolute ms), so the runner fires it on time. */
  alarms: Map<string, number | null>;
}

/** The WaitRoom namespace as the engine sees it. */
export function simWaitRooms(real: Rooms, book: FaultBook, roomEnv: Env, log: RoomLog, clock: SimClock): Rooms {
  const { names } = log;
  const stubOf = (id: DurableObjectId) => {
    const stub = real.get(id);
    const name = [...names].find(([, known]) => known.equals(id))?.[0];
    return new Proxy(stub, {
      get(target, prop) {
        if (typeof prop !== "string" || prop === "then" || prop === "id" || prop === "name") {
          return Reflect.get(target, prop);
        }
        return async (...args: unknown[]) => {
          book.checkAlive(`WaitRoom.${prop}`);
          const fate = book.waitRoom();
          if (fate === "before") throw new InjectedFault(`WaitRoom unreachable (injected): ${prop}`);
          await useSimEnv(stub, roomEnv);
          const method = Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>;
          // Reflect.apply: an RPC stub treats `.apply` as a remote method name.
          book.inFlight += 1;
          const result = await Promise.resolve(Reflect.apply(method, target, args)).finally(() => {
            book.inFlight -= 1;
          });
          for (const key of waitsOfRoomCall(prop, args))
            if (!log.registered.has(key)) log.registered.set(key, clock.now);
          for (const uuid of eventsOfRoomCall(prop, args)) {
            if (!log.reached.has(uuid)) log.reached.set(uuid, clock.now);
            log.rooms.set(uuid, (log.rooms.get(uuid) ?? new Set()).add(name ?? "?"));
          }
          if (name !== undefined) log.alarms.set(name, await alarmOf(stub));
          if (fate === "after") throw new InjectedFault(`WaitRoom reset mid-call (injected): ${prop}`);
          return result;
        };
      },
    });
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "idFromName")
        return (name: string) => {
          const id = target.idFromName(name);
          names.set(name, id);
          return id;
        };
      if (prop === "get") return (id: DurableObjectId) => stubOf(id);
      if (prop === "getByName") return (name: string) => stubOf(names.get(name) ?? remember(target, names, name));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function remember(real: Rooms, names: Map<string, DurableObjectId>, name: string): DurableObjectId {
  const id = real.idFromName(name);
  names.set(name, id);
  return id;
}

/** The running WaitRoom sends through the sim's queues (set again on every call: an evicted object starts fresh). */
async function useSimEnv(stub: DurableObjectStub, roomEnv: Env): Promise<void> {
  await runInDurableObject(stub, (instance: object) => {
    Reflect.set(instance, "env", roomEnv);
  });
}

const alarmOf = (stub: DurableObjectStub) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

/** The earliest alarm any room has set (absolute ms). */
export function nextAlarm(log: RoomLog): number | undefined {
  const times = [...log.alarms.values()].filter((t): t is number => t !== null);
  return times.length === 0 ? undefined : Math.min(...times);
}

/**
 * Fires the alarm of each WaitRoom whose alarm is due by the simulated clock (workerd
 * would fire them by real time, which the sim does not follow); returns how many fired.
 */
export async function fireDueAlarms(real: Rooms, log: RoomLog, roomEnv: Env, now: number): Promise<number> {
  let fired = 0;
  for (const [name, at] of log.alarms) {
    if (at === null || at > now) continue;
    const id = log.names.get(name);
    if (!id) continue;
    const stub = real.get(id);
    await useSimEnv(stub, roomEnv);
    if (await runDurableObjectAlarm(stub)) fired += 1;
    // An alarm that failed stays set: workerd retries it with backoff, so look again in a few seconds.
    const again = await alarmOf(stub);
    log.alarms.set(name, again !== null && again <= now ? now + 2_000 : again);
  }
  return fired;
}
