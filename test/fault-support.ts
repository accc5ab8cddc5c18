/**
 * Fault injection for the repair tests: a queue that drops what it is given (every
 * in-flight message lost), a D1 that is down, WaitRooms that cannot be reached, a WaitRoom whose bindings are swapped
 * while it runs, and the cron fired at a chosen time. Only bindings are replaced; the
 * code under test is the Worker's own.
 */
import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { waitRoomFor } from "../src/durable/wait-rooms";
import worker from "../src/index";

/** A WaitRoom namespace whose objects cannot be reached: every call throws. */
export function unreachableRooms(): Env["WAIT_ROOMS"] {
  const fail = async () => {
    throw new Error("Durable Object unreachable (injected)");
  };
  return {
    idFromName: (name: string) => env.WAIT_ROOMS.idFromName(name),
    get: () => ({ wait: fail, deliver: fail, ack: fail, cancel: fail, reconcile: fail, paused: fail }),
  } as unknown as Env["WAIT_ROOMS"];
}

/** Runs the Worker's scheduled handler as if the cron fired at `at`, with bindings overridden. */
export async function runCron(at: number, overrides: Partial<Env> = {}): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ scheduledTime: at, cron: "* * * * *" }),
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

/** A queue that accepts every message and delivers none: the messages in flight when a process dies. */
export function droppingQueue(): { queue: Queue; dropped: unknown[] } {
  const dropped: unknown[] = [];
  const queue = {
    send: async (body: unknown) => {
      dropped.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      for (const message of messages) dropped.push(message.body);
    },
    metrics: async () => ({ backlogCount: 0, backlogBytes: 0 }),
  };
  return { queue: queue as unknown as Queue, dropped };
}

/** A queue whose sends hang until `cut()` fails them: the process dies while the send is on the wire. */
export function hangingQueue(): { queue: Queue; sending: () => number; cut: () => void } {
  const pending: Array<(err: Error) => void> = [];
  const hang = () => new Promise<never>((_resolve, reject) => pending.push(reject));
  return {
    queue: { send: hang, sendBatch: hang, metrics: hang } as unknown as Queue,
    sending: () => pending.length,
    cut: () => {
      for (const reject of pending.splice(0)) reject(new Error("connection reset (injected)"));
    },
  };
}

/** A D1 binding that is down: every statement fails. */
export function downD1(): D1Database {
  const fail = () => {
    throw new Error("D1_ERROR: database unavailable (injected)");
  };
  return {
    prepare: fail,
    batch: async () => fail(),
    exec: async () => fail(),
    dump: async () => fail(),
  } as unknown as D1Database;
}

/** Swaps bindings of the running WaitRoom of `assetId` (until it is evicted or swapped back). */
export async function withWaitRoomBindings(assetId: string, overrides: Partial<Env>): Promise<void> {
  await runInDurableObject(waitRoomFor(env, null, assetId), (instance) => {
    Reflect.set(instance, "env", { ...env, ...overrides });
  });
}

/** What the WaitRoom of `assetId` holds, straight from its SQLite storage. */
export async function waitRoomRows(assetId: string) {
  return runInDurableObject(waitRoomFor(env, null, assetId), (_instance, state) => {
    const count = (table: string) =>
      state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
    return {
      waits: count("waits"),
      waitTypes: count("wait_types"),
      buffered: count("recent_events"),
      tombstones: count("cancelled_runs"),
      unacked: state.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM waits WHERE resolution IS NOT NULL")
        .one().n,
    };
  });
}

/** Moves every resend the WaitRoom of `assetId` has scheduled into the past, as if its backoff had elapsed. */
export async function elapseResendBackoff(assetId: string): Promise<void> {
  await runInDurableObject(waitRoomFor(env, null, assetId), (_instance, state) => {
    state.storage.sql.exec("UPDATE waits SET next_send_at = ? WHERE resolution IS NOT NULL", Date.now() - 1);
  });
}

/** A run's row as D1 has it. */
export async function runRow(runId: string) {
  return env.DB.prepare("select status, lease_until, not_before, wait_room, repair_after from runs where id = ?")
    .bind(runId)
    .first<{
      status: string;
      lease_until: string | null;
      not_before: string | null;
      wait_room: string | null;
      repair_after: string | null;
    }>();
}
