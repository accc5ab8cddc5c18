/**
 * What the consumer does with a batch of stored events: hand each to its asset's
 * WaitRoom (which resolves the waits it matches), start the runs they trigger, record
 * the events consumed in the same D1 transaction, and execute the new runs at once.
 * Done for the whole batch together, because locally and in D1 the cost is the number
 * of round trips. Safe to repeat: runs start once per (workflow, event), a WaitRoom
 * ignores an event it has seen, and a repeated batch picks up the runs an earlier
 * attempt started but did not finish.
 */
import { listStepsOf, type NewRun, startRuns } from "../db/runs";
import { findTriggeredAndWaited } from "../db/workflows";
import { waitRoomName, waitRoomNamed } from "../durable/wait-rooms";
import type { EventMessage } from "../queue/messages";
import { suppressionSlot } from "../workflows/suppression";
import type { CountedEvents } from "../workflows/threshold";
import { matchesTrigger } from "../workflows/trigger";
import { cancelMatched, cancelMatchesOf, cancelsOfNewRuns, uniqueMatches } from "./cancel-on";
import { countMatches } from "./count-triggers";
import { loadDefinitions } from "./definitions";
import { executeRuns, type WaitDecision } from "./executor";
import { holdRuns, newLeaseOwner } from "./hold-runs";
import { LEASE_MS } from "./lease";
import { logRunsCancelled } from "./log";
import { cancelWaits } from "./terminate";
import type { EngineDeps } from "./types";

/**
 * Routes a batch of events. `messageOf` maps each event uuid to the queue message that
 * carried it: runs are leased for that message, so its retry takes them back at once.
 * Returns the uuids of events whose messages must be retried: a run they started
 * could not be written (its D1 write failed), or their threshold's counter could not
 * be reached; every other run's fate is its own.
 */
export async function routeEvents(
  deps: EngineDeps,
  events: readonly EventMessage[],
  messageOf: ReadonlyMap<string, string>,
): Promise<Set<string>> {
  const { db, env } = deps;
  const owner = newLeaseOwner();
  const inCategory = events.filter((event) => event.inCategory);
  const { triggered, waited, cancelling } = await findTriggeredAndWaited(db, [
    ...new Set(inCategory.map((event) => event.fields.eventType)),
  ]);
  // Cancel-on before the WaitRooms see the events, so an event that would both resume
  // and cancel a run cancels it (engine/cancel-on.ts). Repeated on a redelivery: the
  // guarded write ends nothing twice.
  const cancels = await cancelMatchesOf(db, inCategory, cancelling);
  await cancelMatched(deps, cancels);
  // Before the events are recorded consumed: a crash here redelivers them to the WaitRooms.
  const decided = await deliverToWaitRooms(env, inCategory, waited);
  const { newRuns, uncounted } = await runsToStart(deps, inCategory, triggered, messageOf);
  // Cancel-on again, with the runs this batch starts: one that an event of this batch,
  // or one stored before its trigger arrived, cancels ends before it takes a step.
  const startCancels = uniqueMatches([...cancels, ...(await cancelsOfNewRuns(db, newRuns))]);
  const now = deps.now();
  const leaseUntil = new Date(now.getTime() + LEASE_MS);
  const { fresh, resumed, cancelled } = await startRuns(
    db,
    newRuns,
    // An event whose counter could not be reached is not handled yet: its message is retried.
    events.filter((event) => !uncounted.has(event.uuid)).map((event) => event.uuid),
    now,
    leaseUntil,
    { owner, messageOfTrigger: messageOf },
    startCancels,
  );
  logRunsCancelled(
    cancelled.map((run) => run.id),
    [...new Set(startCancels.map((m) => m.event.uuid))],
  );
  await cancelWaits(db, env, cancelled);
  const leftBehind = Map.groupBy(
    await listStepsOf(
      db,
      resumed.map((run) => run.id),
    ),
    (step) => step.runId,
  );
  // The waits these events decided are applied here, without the queue hop of a resume
  // message. A run another consumer holds is left to the WaitRoom's own resume message,
  // as is one whose write fails here (the WaitRoom re-sends what is not acknowledged).
  const decisions = Map.groupBy(decided, (d) => d.runId);
  const waking = await holdRuns(
    deps,
    {
      owner,
      messageOf: new Map(decided.map((d) => [d.runId, messageOf.get(d.eventUuid) ?? d.eventUuid])),
    },
    (run) => decisions.get(run.id) ?? [],
  );
  const started = [
    ...fresh.map((run) => ({ run, steps: [] })),
    ...resumed.map((run) => ({ run, steps: leftBehind.get(run.id) ?? [] })),
  ];
  const { retry } = await executeRuns(deps, owner, [...started, ...waking]);
  return new Set([
    ...uncounted,
    ...started.filter(({ run }) => retry.has(run.id)).map(({ run }) => run.triggerEventUuid),
  ]);
}

/**
 * The runs these events start: enabled workflows whose trigger lists the type and whose
 * filter matches; for a threshold trigger, only the events that complete its window
 * (count-triggers.ts); each with its suppression slot when the workflow suppresses
 * repeats. `uncounted` are events whose counter could not be reached.
 */
async function runsToStart(
  deps: EngineDeps,
  events: readonly EventMessage[],
  triggered: Awaited<ReturnType<typeof findTriggeredAndWaited>>["triggered"],
  messageOf: ReadonlyMap<string, string>,
): Promise<{ newRuns: NewRun[]; uncounted: Set<string> }> {
  const candidates = await loadDefinitions(deps.db, triggered);
  const byType = Map.groupBy(candidates, (candidate) => candidate.eventType);
  const matched = events.flatMap((event) =>
    (byType.get(event.fields.eventType) ?? [])
      .filter((candidate) => matchesTrigger(candidate.definition.trigger, event.fields))
      .map((candidate) => ({ event, candidate })),
  );
  const newRun = async (
    event: EventMessage,
    candidate: (typeof candidates)[number],
    counted: CountedEvents | null,
  ): Promise<NewRun> => ({
    id: crypto.randomUUID(),
    leaseMessage: messageOf.get(event.uuid) ?? event.uuid,
    workflowId: candidate.workflowId,
    workflowVersion: candidate.version,
    triggerEventUuid: event.uuid,
    trigger: event.fields,
    counted,
    assetId: event.fields.id,
    suppression: await suppressionSlot(candidate.definition.suppress, event.fields, candidate.workflowId, counted),
  });
  const counting = matched.flatMap(({ event, candidate }) => {
    const threshold = candidate.definition.trigger.threshold;
    return threshold ? [{ event, candidate: { ...candidate, threshold } }] : [];
  });
  const { fired, failed } = await countMatches(deps.env, counting);
  const countingOf = new Map(counting.map((c) => [JSON.stringify([c.event.uuid, c.candidate.workflowId]), c]));
  return {
    newRuns: await Promise.all([
      ...matched
        .filter(({ candidate }) => !candidate.definition.trigger.threshold)
        .map(({ event, candidate }) => newRun(event, candidate, null)),
      ...fired.flatMap(({ event, workflowId, counted }) => {
        const c = countingOf.get(JSON.stringify([event.uuid, workflowId]));
        return c ? [newRun(event, c.candidate, counted)] : [];
      }),
    ]),
    uncounted: failed,
  };
}

/** How many of its decisions each WaitRoom hands back to this batch; more go by resume message. */
const HANDOFF_PER_ASSET = 100;

/**
 * Only events of a type some workflow waits for are worth a WaitRoom call (and its
 * storage). Each goes to the room of its (source, asset): asset IDs are unique only
 * within one Okta org. Returns the waits the WaitRooms decided and handed back to apply now.
 */
async function deliverToWaitRooms(
  env: Env,
  events: readonly EventMessage[],
  waited: Set<string>,
): Promise<Array<WaitDecision & { runId: string; eventUuid: string }>> {
  const wanted = events.filter((event) => event.fields.id && (waited.has("*") || waited.has(event.fields.eventType)));
  const byRoom = Map.groupBy(wanted, (event) => waitRoomName(event.fields.source, event.fields.id ?? ""));
  const handed = await Promise.all(
    [...byRoom].map(async ([room, roomEvents]) => {
      const { handedOff } = await waitRoomNamed(env, room).deliver(
        roomEvents.map((event) => ({ uuid: event.uuid, fields: event.fields })),
        HANDOFF_PER_ASSET,
      );
      return handedOff.map((decided) => ({
        ...decided,
        assetId: room,
        eventUuid: decided.resolution.kind === "event" ? decided.resolution.event.uuid : "",
      }));
    }),
  );
  return handed.flat();
}
