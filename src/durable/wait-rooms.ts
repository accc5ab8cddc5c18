/**
 * Reaching a WaitRoom: one Durable Object per (source, asset). Asset IDs are only unique
 * within one Okta org (a rate-limit asset is a URL pattern, the same in every org), so the
 * room, and with it every match, is scoped to the named source that delivered the event.
 */
import type { WaitRoom } from "./wait-room";

/**
 * The room's name, which `runs.wait_room` stores and resume messages carry as `assetId`:
 * a JSON pair, so no source or asset ID can be read as another. Null is the single-org
 * `/hooks/okta` source.
 */
export function waitRoomName(source: string | null | undefined, assetId: string): string {
  return JSON.stringify([source ?? null, assetId]);
}

/**
 * Names written before rooms were scoped are the bare asset ID; the cron moves their
 * waits (engine/repairs.ts). A scoped name always starts with `[`.
 */
export function isScopedRoomName(name: string): boolean {
  return name.startsWith("[");
}

/** The room a stored name points at (scoped, or a legacy bare asset ID). */
export function waitRoomNamed(env: Env, name: string): DurableObjectStub<WaitRoom> {
  return env.WAIT_ROOMS.get(env.WAIT_ROOMS.idFromName(name));
}

export function waitRoomFor(env: Env, source: string | null | undefined, assetId: string): DurableObjectStub<WaitRoom> {
  return waitRoomNamed(env, waitRoomName(source, assetId));
}
