/**
 * Our Worker, unchanged, with timing around its I/O: every D1 statement and batch (by
 * SQL text), every WaitRoom RPC (by method), every queue send and every outbound
 * fetch, plus each queue batch as a whole and the WaitRoom's wait/deliver measured
 * from the inside. Bundled instead of src/index.ts only with `--profile` (see
 * bench/lib/profile.ts); GET /__bench/profile returns the totals, ?reset=1 clears them.
 * Locally, workerd's clock runs during execution, so the timings are wall time at 1 ms
 * resolution: averages over many calls are fair, single calls are not. Plain JS like
 * the other benchmark Workers, so the Node-side typecheck never sees Workers types.
 */
import worker, { WaitRoom as ProjectWaitRoom } from "../../src/index";

// Exported as shipped (not timed): the hook's failure limits, which the benchmarks do not exercise.
export { EventCounter, FailureLimiter } from "../../src/index";

/** @type {Map<string, {n: number, ms: number}>} */
const stats = new Map();
let since = Date.now();

function note(key, ms) {
  const stat = stats.get(key) ?? { n: 0, ms: 0 };
  stat.n += 1;
  stat.ms += ms;
  stats.set(key, stat);
}

async function timed(key, work) {
  const started = performance.now();
  try {
    return await work();
  } finally {
    note(key, performance.now() - started);
  }
}

/** "update `runs` set `lease_until` = ? where ..." -> a short, stable label. */
const label = (sql) => sql.replace(/\s+/g, " ").replace(/`/g, "").slice(0, 84);

/** Binds plain methods to the real object, so native bindings get their own `this`. */
function passThrough(target, prop) {
  const value = Reflect.get(target, prop, target);
  return typeof value === "function" ? value.bind(target) : value;
}

const STATEMENT = Symbol("statement");
/** SQL text of each wrapped statement, for batch labels. */
const sqlOf = new WeakMap();

function wrapStatement(statement, sql) {
  const proxy = new Proxy(statement, {
    get(target, prop) {
      if (prop === STATEMENT) return target;
      if (prop === "bind") return (...values) => wrapStatement(target.bind(...values), sql);
      if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") {
        return (...args) => timed(`D1 ${label(sql)}`, () => target[prop](...args));
      }
      return passThrough(target, prop);
    },
  });
  sqlOf.set(proxy, sql);
  return proxy;
}

function wrapDb(db) {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql) => wrapStatement(target.prepare(sql), sql);
      if (prop === "batch") {
        return (statements) =>
          timed(`D1 batch of ${statements.length}: ${label(sqlOf.get(statements[0]) ?? "")}`, () =>
            target.batch(statements.map((s) => s[STATEMENT] ?? s)),
          );
      }
      return passThrough(target, prop);
    },
  });
}

function wrapQueue(queue, name) {
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === "send" || prop === "sendBatch") {
        return (...args) => timed(`queue ${name}.${prop}`, () => target[prop](...args));
      }
      return passThrough(target, prop);
    },
  });
}

function wrapStub(stub) {
  return new Proxy(stub, {
    get(target, prop) {
      // RPC stubs answer every property with a callable stub; call it as a method, never via .apply.
      if (typeof prop !== "string" || prop === "then" || prop === "idFromName" || prop === "id" || prop === "name") {
        return Reflect.get(target, prop);
      }
      return (...args) => timed(`WaitRoom RPC ${prop} (from the consumer)`, () => target[prop](...args));
    },
  });
}

function wrapNamespace(ns) {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") return (...args) => wrapStub(target.get(...args));
      return passThrough(target, prop);
    },
  });
}

const wrapped = new WeakMap();
function profiledEnv(env) {
  let result = wrapped.get(env);
  if (!result) {
    result = {
      ...env,
      DB: wrapDb(env.DB),
      EVENTS: wrapQueue(env.EVENTS, "EVENTS"),
      DEAD_LETTERS: wrapQueue(env.DEAD_LETTERS, "DEAD_LETTERS"),
      WAIT_ROOMS: wrapNamespace(env.WAIT_ROOMS),
    };
    wrapped.set(env, result);
  }
  return result;
}

const projectFetch = globalThis.fetch;
globalThis.fetch = (input, init) => timed("fetch (the http action)", () => projectFetch(input, init));

/** The WaitRoom as shipped, with wait() and deliver() also timed from the inside (its SQLite work and sends). */
export class WaitRoom extends ProjectWaitRoom {
  constructor(ctx, env) {
    super(ctx, { ...env, EVENTS: wrapQueue(env.EVENTS, "EVENTS from WaitRoom") });
  }
  wait(input) {
    return timed("  inside WaitRoom.wait", () => super.wait(input));
  }
  deliver(input) {
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
      const kind = message.body?.kind;
      note(`  queue message: ${typeof kind === "string" ? kind : "other"}`, 0);
    }
    await timed("queue batch (whole consumer invocation)", () => worker.queue(batch, profiledEnv(env), ctx));
  },
  scheduled: (controller, env, ctx) => worker.scheduled(controller, profiledEnv(env), ctx),
};
