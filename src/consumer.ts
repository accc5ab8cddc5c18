/**
 * The queue consumer. `event` messages start the runs they trigger (and tell the
 * WaitRooms); `run` messages execute a run from where it stands; `resume` messages
 * apply a WaitRoom's decision and execute the run onwards. Every message is settled
 * explicitly: ack when done, retry with backoff on a transient failure, and a body
 * that can never be processed goes to the dead-letter queue with its reason.
 */
import { createDb } from "./db/client";
import { eventMessageOf } from "./db/event-rows";
import { getEvents } from "./db/events";
import { getRuns } from "./db/runs";
import { waitRoomNamed } from "./durable/wait-rooms";
import { executeRuns } from "./engine/executor";
import { holdRuns, newLeaseOwner } from "./engine/hold-runs";
import { leaseBusyDelaySeconds } from "./engine/lease";
import { routeEvents } from "./engine/route-events";
import type { EngineDeps } from "./engine/types";
import {
  type DeadLetter,
  type EventMessage,
  type EventRefMessage,
  QueueMessage,
  type ResumeMessage,
  type RunMessage,
} from "./queue/messages";
import { describeIssue } from "./validation";

/** Retry delay: 5 s, 10 s, 20 s, ... capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

interface Parsed<T> {
  message: Message<unknown>;
  body: T;
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx?: ExecutionContext): Promise<void> {
  const deps: EngineDeps = { db: createDb(env.DB), env, now: () => new Date() };
  const events: Parsed<EventMessage | EventRefMessage>[] = [];
  const runs: Parsed<RunMessage | ResumeMessage>[] = [];
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success) {
      await deadLetter(env, message, `invalid message: ${describeIssue(parsed.error)}`);
    } else if (parsed.data.kind === "event" || parsed.data.kind === "event-ref") {
      events.push({ message, body: parsed.data });
    } else {
      runs.push({ message, body: parsed.data });
    }
  }
  await Promise.all([handleEvents(deps, events), handleRuns(deps, runs)]);
}

/**
 * Events are handled together; if that fails they are handled one by one, so that one
 * event that keeps failing cannot hold back the others in its batch. A run whose write
 * failed retries only the message of the event that started it.
 */
async function handleEvents(deps: EngineDeps, events: Parsed<EventMessage | EventRefMessage>[]): Promise<void> {
  if (events.length === 0) return;
  let retryUuids: Set<string>;
  try {
    const messageOf = new Map(events.map(({ message, body }) => [body.uuid, message.id]));
    retryUuids = await routeEvents(deps, await resolveRefs(deps, events), messageOf);
  } catch (err) {
    if (events.length === 1 && events[0]) {
      retry(events[0].message, err);
      return;
    }
    console.error(
      JSON.stringify({
        msg: "event batch failed; handling its events one by one",
        count: events.length,
        error: String(err),
      }),
    );
    for (const event of events) await handleEvents(deps, [event]);
    return;
  }
  for (const { message, body } of events) {
    if (retryUuids.has(body.uuid)) retry(message, "a run it started could not be written");
    else message.ack();
  }
}

/** Event references (events too large for a message) are read from D1; one gone from D1 has nothing to do. */
async function resolveRefs(
  deps: EngineDeps,
  events: Parsed<EventMessage | EventRefMessage>[],
): Promise<EventMessage[]> {
  const refs = events.flatMap((event) => (event.body.kind === "event-ref" ? [event.body.uuid] : []));
  const stored = new Map((await getEvents(deps.db, refs)).map((row) => [row.uuid, row]));
  return events.flatMap(({ body }) => {
    if (body.kind === "event") return [body];
    const row = stored.get(body.uuid);
    return row ? [eventMessageOf(row)] : [];
  });
}

/**
 * Run and resume messages, together: one lease statement and one steps query for the
 * batch. A message for a run another consumer holds comes back when that lease ends;
 * a resume for a run that has ended only tells its WaitRoom to forget the wait.
 */
async function handleRuns(deps: EngineDeps, messages: Parsed<RunMessage | ResumeMessage>[]): Promise<void> {
  if (messages.length === 0) return;
  try {
    const now = deps.now();
    const owner = newLeaseOwner();
    const byRun = Map.groupBy(messages, (m) => m.body.runId);
    const messageOf = new Map([...byRun].map(([runId, list]) => [runId, list[0]?.message.id ?? runId]));
    const work = await holdRuns(deps, { owner, messageOf }, (run) =>
      (byRun.get(run.id) ?? []).flatMap(({ body }) => {
        const assetId = body.kind === "resume" ? (body.assetId ?? run.waitRoom) : null;
        return body.kind === "resume" && assetId ? [{ assetId, nodeId: body.nodeId, resolution: body.resolution }] : [];
      }),
    );
    const held = new Set(work.map((item) => item.run.id));
    const others = new Map(
      (
        await getRuns(
          deps.db,
          [...byRun.keys()].filter((id) => !held.has(id)),
        )
      ).map((run) => [run.id, run]),
    );
    const { retry: failed } = await executeRuns(deps, owner, work);
    await forgetEndedWaits(deps, messages, held, others);
    for (const { message, body } of messages) {
      const other = others.get(body.runId);
      const busy = other && (other.status === "running" || other.status === "waiting");
      if (failed.has(body.runId)) retry(message, "its run's write failed");
      else if (busy) message.retry({ delaySeconds: leaseBusyDelaySeconds(other.leaseUntil, now) });
      else message.ack();
    }
  } catch (err) {
    for (const { message } of messages) retry(message, err);
  }
}

/** A resume for a run that ended (terminated, say) while it waited: the WaitRoom can drop that wait. */
async function forgetEndedWaits(
  deps: EngineDeps,
  messages: Parsed<RunMessage | ResumeMessage>[],
  held: Set<string>,
  others: Map<string, { status: string }>,
): Promise<void> {
  const ended = messages.flatMap(({ body }) => {
    const run = others.get(body.runId);
    const over = !held.has(body.runId) && (!run || (run.status !== "running" && run.status !== "waiting"));
    return body.kind === "resume" && body.assetId && over
      ? [{ assetId: body.assetId, runId: body.runId, nodeId: body.nodeId }]
      : [];
  });
  await Promise.all(
    [...Map.groupBy(ended, (wait) => wait.assetId)].map(([assetId, waits]) =>
      waitRoomNamed(deps.env, assetId).ack(waits.map(({ runId, nodeId }) => ({ runId, nodeId }))),
    ),
  );
}

function retry(message: Message<unknown>, err: unknown): void {
  console.error(
    JSON.stringify({
      msg: "consumer step failed; retrying",
      id: message.id,
      attempts: message.attempts,
      error: String(err),
    }),
  );
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
}

/** Moves a message that can never succeed to the dead-letter queue; if that fails, the message is retried. */
async function deadLetter(env: Env, message: Message<unknown>, reason: string): Promise<void> {
  const letter: DeadLetter = { reason, body: message.body, messageId: message.id, attempts: message.attempts };
  try {
    await env.DEAD_LETTERS.send(letter, { contentType: "json" });
  } catch (err) {
    console.error(JSON.stringify({ msg: "dead-letter send failed; retrying", id: message.id, error: String(err) }));
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  console.warn(JSON.stringify({ msg: "message dead-lettered", id: message.id, reason }));
  message.ack();
}
