/** Reaching an asset's WaitRoom: one Durable Object per asset ID, named by it. */
import type { WaitRoom } from "./wait-room";

export function waitRoomFor(env: Env, assetId: string): DurableObjectStub<WaitRoom> {
  return env.WAIT_ROOMS.get(env.WAIT_ROOMS.idFromName(assetId));
}
