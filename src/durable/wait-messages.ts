/**
 * What crosses the WaitRoom's RPC boundary, validated on arrival: callers may be an
 * older deploy, and the stored filter is user data.
 */
import { z } from "zod";
import { EventFields } from "../okta/event-fields";
import { Predicate } from "../workflows/predicate";

/** A run that stops at an event node and waits for a later event on this asset. */
export const WaitRequest = z.object({
  runId: z.string().min(1),
  nodeId: z.string().min(1),
  workflowId: z.string().min(1),
  assetId: z.string().min(1),
  /** Empty means any of the 13 System Category types. */
  eventTypes: z.array(z.string()),
  filter: Predicate.nullable(),
  /** Only events published strictly after this one count: the event the run saw last. */
  after: z.object({ uuid: z.string(), eventDate: z.string() }),
  /** Epoch milliseconds, or null to wait without a timeout. */
  deadline: z.number().int().nullable(),
  /** The WaitRoom's name (durable/wait-rooms.ts), carried back on resume messages. Absent from older callers. */
  room: z.string().min(1).optional(),
  /**
   * The named Okta org whose events may resume the run (null: the single-org hook).
   * Absent from older callers, whose waits match any source of their room.
   */
  source: z.string().nullable().optional(),
  /** Events the run has already taken (its trigger, each resumption): none resumes it again. */
  seen: z.array(z.string()).max(1000).optional(),
});
export type WaitRequest = z.infer<typeof WaitRequest>;

export const AssetEvent = z.object({ uuid: z.string().min(1), fields: EventFields });
export type AssetEvent = z.infer<typeof AssetEvent>;

/** How a wait ended: the event that matched, the timeout, or a cancel (the run was terminated). */
export const Resolution = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("event"), event: AssetEvent }),
  z.object({ kind: z.literal("timeout") }),
  z.object({ kind: z.literal("cancelled") }),
]);
export type Resolution = z.infer<typeof Resolution>;

/** What wait() answers: still waiting until the deadline, or already resolved (a repeat, or from the buffer). */
export type WaitState = { state: "waiting"; deadline: number | null } | { state: "resolved"; resolution: Resolution };

export interface PausedRun {
  runId: string;
  nodeId: string;
  workflowId: string;
  eventTypes: string[];
  filter: Predicate | null;
  deadline: string | null;
  since: string;
}
