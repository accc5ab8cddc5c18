/**
 * Our Worker, unchanged, with timing around its I/O: every D1 statement and batch (by
 * SQL text), every WaitRoom RPC (by method), every queue send and every outbound
 * fetch, plus each queue batch as a whole and the work inside the WaitRoom's methods.
 * Bundled instead of src/index.ts only by `npm run bench:consumer -- --profile` and
 * `npm run bench:resume -- --profile`; GET /__bench/profile returns the totals and
 * ?reset=1 clears them. (Locally, workerd's clock is not frozen during execution, so
 * the timings are wall time, at 1 ms resolution: averages over many calls are fair,
 * single calls are not.)
 */
import worker, { WaitRoom as ProjectWaitRoom } from "../../src/index";

type Stat = { n: number; ms: number };
const stats = new Map<string, Stat>();
let since = Date.now();

function note(key: string, ms: number, n = 1): void {
  const stat = stats.get(key) ?? { n: 0, ms: 0 };
  stat.n += n;
  stat.ms += ms;
  stats.set(key, stat);
}

async function timed<T>(key: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    note(key, performance.now() - started);
  }
}

/** "update `runs` set `lease_until` = ? where ..." -> a short, stable label. */
function label(sql: string): string {
  return sql.replace(/\s+/g, " ").replace(/`/g, "").slice(0, 110);
}

const STATEMENT = Symbol("statement");
type Wrapped = D1PreparedStatement & { [STATEMENT]: D1PreparedStatement; sql: string };

function wrapStatement(statement: D1PreparedStatement, sql: string): Wrapped {
  return new Proxy(statement, {
    get(target, prop) {
      if (prop === STATEMENT) return target;
      if (prop === "sql") return sql;
      if (prop === "bind") return (...values: unknown[]) => wrapStatement(target.bind(...values), sql);
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return (...args: unknown[]) =>
          timed(`D1 ${label(sql)}`, () => (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Wrapped;
}

function wrapDb(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql);
      if (prop === "batch") {
        return (statements: Wrapped[]) =>
          timed(`D1 batch[${statements.length}] ${label(statements[0]?.sql ?? "")}`, () =>
            target.batch(statements.map((s) => s[STATEMENT] ?? s)),
          );
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function wrapQueue(queue: Queue, name: string): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === "send" || prop === "sendBatch") {
        return (...args: unknown[]) =>
          timed(`queue ${name}.${prop}`, () =>
            (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args),
          );
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function wrapStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop !== "string" || typeof value !== "function") return value;
      return (...args: unknown[]) =>
        timed(`WaitRoom RPC ${prop}`, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    },
  });
}

function wrapNamespace(ns: DurableObjectNamespace): DurableObjectNamespace {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") return (...args: Parameters<typeof ns.get>) => wrapStub(target.get(...args));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const wrapped = new WeakMap<object, Env>();
function profiledEnv(env: Env): Env {
  const known = wrapped.get(env);
  if (known) return known;
  const result = {
    ...env,
    DB: wrapDb(env.DB),
    EVENTS: wrapQueue(env.EVENTS, "EVENTS"),
    DEAD_LETTERS: wrapQueue(env.DEAD_LETTERS, "DEAD_LETTERS"),
    WAIT_ROOMS: wrapNamespace(env.WAIT_ROOMS as unknown as DurableObjectNamespace),
  } as Env;
  wrapped.set(env, result);
  return result;
}

const projectFetch = globalThis.fetch;
globalThis.fetch = (input, init) => timed("fetch (http action)", () => projectFetch(input, init));

/** The WaitRoom as shipped, with its RPC methods timed from the inside (their SQLite work and sends). */
export class WaitRoom extends ProjectWaitRoom {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, EVENTS: wrapQueue(env.EVENTS, "EVENTS (from WaitRoom)") } as Env);
  }
  override wait(input: unknown) {
    return timed("  inside WaitRoom.wait", () => super.wait(input));
  }
  override deliver(input: unknown) {
    return timed("  inside WaitRoom.deliver", () => super.deliver(input));
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/profile") {
      const body = { seconds: (Date.now() - since) / 1000, stats: Object.fromEntries(stats) };
      if (url.searchParams.get("reset") === "1") {
        stats.clear();
        since = Date.now();
      }
      return Response.json(body);
    }
    return worker.fetch(request, profiledEnv(env), ctx);
  },
  async queue(batch, env, ctx) {
    for (const message of batch.messages) {
      const kind = (message.body as { kind?: unknown } | null)?.kind;
      note(`queue messages: ${typeof kind === "string" ? kind : "other"}`, 0);
    }
    await timed("queue batch (whole consumer invocation)", () => worker.queue(batch, profiledEnv(env), ctx));
  },
  scheduled: (controller, env, ctx) => worker.scheduled(controller, profiledEnv(env), ctx),
} satisfies ExportedHandler<Env, unknown>;
