/**
 * Fault wrappers around the bindings the engine uses (D1, the events queue, the
 * WaitRoom namespace), driven by a seed's fault plan. Only bindings are wrapped: the
 * code under test is the Worker's own. The queue is the simulator's own transport: what
 * the Worker sends is held here and delivered by `pump` (run.ts), so loss, duplication,
 * reordering and delay are the simulator's to choose.
 */
import { env } from "cloudflare:workers";
import type { Rng } from "./prng";
import type { Fault, FaultKind } from "./schedule";

/** Thrown by a wrapped binding to stand for the invocation dying at that await. */
export class Crash extends Error {
  constructor() {
    super("consumer died here (injected)");
  }
}

export interface Pending {
  id: string;
  body: unknown;
  attempts: number;
}

export class FaultPlan {
  /** Faults apply while this is on: the schedule's deliveries and first consumption, then the system must heal. */
  active = true;
  crashed = false;
  readonly injected: Record<string, number> = {};
  private readonly counts: Record<string, number> = {};

  constructor(
    readonly faults: readonly Fault[],
    readonly rng: Rng,
  ) {}

  has(kind: FaultKind): boolean {
    return this.faults.some((f) => f.kind === kind);
  }

  /** Counts a call on `counter` and says which of `kinds` hits it. */
  hit(counter: string, kinds: readonly FaultKind[]): FaultKind | null {
    this.counts[counter] = (this.counts[counter] ?? 0) + 1;
    if (!this.active) return null;
    const n = this.counts[counter] ?? 0;
    const fault = this.faults.find((f) => kinds.includes(f.kind) && n >= f.at && n < f.at + f.span);
    if (!fault) return null;
    this.injected[fault.kind] = (this.injected[fault.kind] ?? 0) + 1;
    return fault.kind;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** env.DB with the plan's D1 faults: errors before or after a batch takes effect, latency, and a crash. */
export function faultyD1(plan: FaultPlan): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const fault = plan.hit("d1", ["d1-error", "d1-error-after", "d1-latency", "crash"]);
          if (fault === "crash") {
            plan.crashed = true;
            throw new Crash();
          }
          if (fault === "d1-error") throw new Error("D1_ERROR: internal error (injected)");
          if (fault === "d1-latency") await sleep(plan.rng.int(2, 20));
          const result = await target.batch(statements);
          if (fault === "d1-error-after") throw new Error("D1_ERROR: network connection lost (injected)");
          return result;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The events queue as the simulator's transport: sends are held in `pending`, and may fail. */
export function capturingQueue(plan: FaultPlan, pending: Pending[]): Queue {
  const accept = (body: unknown, delaySeconds = 0) => {
    // A delayed message (a deferral) comes back later than the simulation looks: the cron repairs its loss.
    if (delaySeconds > 0) return;
    pending.push({ id: crypto.randomUUID(), body, attempts: 1 });
  };
  const check = () => {
    if (plan.hit("send", ["send-fail"])) throw new Error("Queue send failed: service unavailable (injected)");
  };
  return {
    send: async (body: unknown, options?: QueueSendOptions) => {
      check();
      accept(body, options?.delaySeconds);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      check();
      for (const message of messages) accept(message.body, message.delaySeconds);
    },
    metrics: async () => ({ backlogCount: pending.length, backlogBytes: 0 }),
  } as unknown as Queue;
}

const ROOM_METHODS = ["wait", "deliver", "ack", "cancel", "reconcile", "paused"];

/** The WaitRoom namespace with the plan's faults: unreachable before a call, or reset after it took effect. */
export function faultyRooms(plan: FaultPlan): Env["WAIT_ROOMS"] {
  const real = env.WAIT_ROOMS;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "get") {
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          return new Proxy(stub, {
            get(stubTarget, method) {
              const value = Reflect.get(stubTarget, method);
              if (typeof method !== "string" || !ROOM_METHODS.includes(method) || typeof value !== "function") {
                return typeof value === "function" ? value.bind(stubTarget) : value;
              }
              return async (...args: unknown[]) => {
                const fault = plan.hit("room", ["room-down", "room-reset"]);
                if (fault === "room-down") throw new Error("Durable Object is unreachable (injected)");
                // RPC stubs answer every property, `apply` included: call the method by name.
                const result = await (stubTarget as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
                  method
                ]?.(...args);
                if (fault === "room-reset")
                  throw new Error("Durable Object reset because its code was updated (injected)");
                return result;
              };
            },
          });
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
