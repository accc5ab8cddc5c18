/**
 * What the consumer does with a batch of stored events: start the runs they trigger,
 * hand each to its asset's WaitRoom (which resumes the runs waiting for it), and
 * record them consumed. Done for the whole batch at once (one trigger lookup, one
 * WaitRoom call per asset, one D1 update), because locally and in D1 the cost is the
 * number of round trips. Safe to repeat: runs start once per (workflow, event) and a
 * WaitRoom ignores an event it has seen.
 */
import type { Db } from "../db/client";
import { markConsumed } from "../db/events";
import { findWaitedEventTypes } from "../db/workflows";
import { waitRoomFor } from "../durable/wait-rooms";
import { enqueueRuns } from "../queue/enqueue";
import type { EventMessage } from "../queue/messages";
import { startRunsForEvents } from "./start-runs";

export async function routeEvents(db: Db, env: Env, events: readonly EventMessage[], now: Date): Promise<void> {
  const inCategory = events.filter((event) => event.inCategory);
  if (inCategory.length > 0) {
    await enqueueRuns(env.EVENTS, await startRunsForEvents(db, inCategory, now));
    await deliverToWaitRooms(db, env, inCategory);
  }
  await markConsumed(
    db,
    events.map((event) => event.uuid),
    now,
  );
}

/** Only events of a type some workflow waits for are worth a WaitRoom call (and its storage). */
async function deliverToWaitRooms(db: Db, env: Env, events: readonly EventMessage[]): Promise<void> {
  const waited = await findWaitedEventTypes(db);
  const wanted = events.filter((event) => event.fields.id && (waited.has("*") || waited.has(event.fields.eventType)));
  const byAsset = Map.groupBy(wanted, (event) => event.fields.id ?? "");
  await Promise.all(
    [...byAsset].map(([assetId, assetEvents]) =>
      waitRoomFor(env, assetId).deliver(assetEvents.map((event) => ({ uuid: event.uuid, fields: event.fields }))),
    ),
  );
}
