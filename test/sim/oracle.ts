/**
 * The oracle: a pure walk of each workflow over the seed's events, as the engine should
 * take it with no fault at all. It encodes the intended rules (issue 15), not today's
 * code: a wait takes the earliest event on its own (source, asset) that the run has not
 * seen, published no earlier than the last one it saw and no later than its deadline;
 * otherwise it times out. Which event wins among several depends on when each reached
 * its WaitRoom (recorded by the harness): the earliest published of those already there
 * when the run paused, else the first to arrive. The deadline is the node's timeout after the
 * pause (the wait step's start in D1; the engine as of 5cec95e) or after the event the run
 * saw last (the fenced engine); where that choice, or a race the rules leave open (an event
 * published within a few seconds of the deadline, or one published in time that reached the
 * engine only near or after it), changes the answer, the walk stops there and only the path
 * before it is checked.
 */
import type { RunView } from "./engine-view";
import type { SimEvent } from "./schedule";
import type { SimWorkflow } from "./workflows";

export interface ExpectedStep {
  nodeId: string;
  outcome: string;
  /** For a resumed wait: the events that may have resumed it (several when they share a millisecond). */
  eventUuids?: string[];
  /** For an action: the node is called. */
  action?: boolean;
}

export interface Expected {
  steps: ExpectedStep[];
  /** The run's end, or null when the walk stopped at an open race (only `steps` is checked). */
  status: "completed" | "timed_out" | "cancelled" | null;
}

/** How close to a deadline an event must be for the order of the two to be a race. */
const RACE_MS = 5_000;
/** How close an event's arrival and a pause must be to race (the clock ticks 1 ms per D1 statement and call). */
const ARRIVAL_RACE_MS = 1_000;

/**
 * Whether event `f` certainly resumes a wait that reached its room at `registered` before
 * `e` could: among events already buffered when the wait registered, the earliest published wins; a buffered
 * event beats one still to come; among later ones, the first to reach the room wins.
 */
function definitelyBefore(f: SimEvent, e: SimEvent, registered: number, arrival: (e: SimEvent) => number): boolean {
  const fa = arrival(f);
  const ea = arrival(e);
  const buffered = (at: number) => at < registered - ARRIVAL_RACE_MS;
  const later = (at: number) => at > registered + ARRIVAL_RACE_MS;
  if (buffered(fa) && buffered(ea)) return f.published < e.published;
  if (buffered(fa) && later(ea)) return true;
  if (later(fa) && later(ea)) return fa < ea - ARRIVAL_RACE_MS;
  return false;
}

interface Node {
  kind: string;
  next?: string | null;
  true?: string | null;
  false?: string | null;
  onTimeout?: string | null;
  eventTypes?: string[];
  timeoutSeconds?: number;
  when?: { field: string; value: string };
}

/**
 * The events that may end a wait with this deadline, or "race" where the rules leave it open:
 * an event within a few seconds of the deadline, or one published in time that reached its
 * WaitRoom only around or after it (a wait the cron registers late may still take it). None:
 * the timeout wins, however late the wait was registered.
 */
function decide(
  candidates: readonly SimEvent[],
  deadline: number,
  arrival: (e: SimEvent) => number,
): SimEvent[] | "race" {
  if (candidates.some((e) => Math.abs(e.published - deadline) < RACE_MS)) return "race";
  const inTime = candidates.filter((e) => e.published <= deadline);
  const late = (e: SimEvent) => arrival(e) >= deadline - RACE_MS && arrival(e) !== Number.POSITIVE_INFINITY;
  if (inTime.some(late)) return "race";
  return inTime.filter((e) => arrival(e) < deadline);
}

function sameDecision(a: readonly SimEvent[], b: readonly SimEvent[]): boolean {
  return a.length === b.length && a.every((e) => b.includes(e));
}

/** What the harness saw reach the WaitRooms, and when. */
interface SeenBy {
  /** When an event first reached a WaitRoom. */
  arrivedAt: (uuid: string) => number | null;
  /** When the run's wait at this node first reached its room (a failed wait() is registered later by the cron). */
  registeredAt: (nodeId: string) => number | null;
}

/**
 * `events`: the seed's events D1 stored, with their absolute `published`; `seenBy`:
 * what the harness saw reach the WaitRooms and when; `run`: the engine's run, for its pause times.
 */
export function expectedPath(
  workflow: SimWorkflow,
  trigger: SimEvent,
  events: readonly SimEvent[],
  seenBy: SeenBy,
  run: RunView | undefined,
): Expected {
  const walked = walk(workflow, trigger, events, seenBy, run);
  return workflow.cancelOn
    ? withCancelOn(workflow, workflow.cancelOn, trigger, events, seenBy.arrivedAt, walked, run)
    : walked;
}

/**
 * Cancel-on over the walk: an event of a cancel type on the trigger's (source, asset),
 * published no earlier than the trigger (and not it), cancels the run if it reached the
 * engine clearly before the run's first wait could be decided (its first accepted event
 * reached a room, or its deadline passed); the engine cancels before it hands an event to
 * the WaitRooms, so the arrival the harness records is no earlier than the cancel. One that
 * came later races the run's end (a fault may keep it running): only what the run did
 * before is open, so nothing is checked. Written for the sim's `wait` workflow, which
 * waits first.
 */
function withCancelOn(
  workflow: SimWorkflow,
  cancelTypes: readonly string[],
  trigger: SimEvent,
  events: readonly SimEvent[],
  arrivedAt: (uuid: string) => number | null,
  walked: Expected,
  run: RunView | undefined,
): Expected {
  const onAsset = (e: SimEvent) =>
    e.uuid !== trigger.uuid &&
    e.source === trigger.source &&
    e.assetId === trigger.assetId &&
    e.published >= trigger.published;
  const cancellers = events.filter((e) => onAsset(e) && cancelTypes.includes(e.eventType));
  if (cancellers.length === 0) return walked;
  const first = workflow.nodes[workflow.start] as Node | undefined;
  if (first?.kind !== "event") return { steps: [], status: null };
  const arrival = (e: SimEvent) => arrivedAt(e.uuid) ?? Number.POSITIVE_INFINITY;
  const cancelAt = Math.min(...cancellers.map(arrival));
  const pausedAt = run?.steps.find((s) => s.nodeId === workflow.start)?.startedAt ?? Number.POSITIVE_INFINITY;
  const timeout = (first.timeoutSeconds ?? 0) * 1000;
  const resumers = events.filter((e) => onAsset(e) && (first.eventTypes ?? []).includes(e.eventType));
  const decidedBy = Math.min(
    trigger.published + timeout,
    // A wait registered late counts from its pause; the earlier of the two is the safe bound.
    Math.min(pausedAt, trigger.published) + timeout,
    ...resumers.map(arrival),
  );
  if (cancelAt < decidedBy - RACE_MS) return { steps: [], status: "cancelled" };
  return { steps: [], status: null };
}

function walk(
  workflow: SimWorkflow,
  trigger: SimEvent,
  events: readonly SimEvent[],
  seenBy: SeenBy,
  run: RunView | undefined,
): Expected {
  const { arrivedAt } = seenBy;
  const steps: ExpectedStep[] = [];
  const seen = new Set([trigger.uuid]);
  let current = trigger;
  let nodeId: string | null = workflow.start;
  for (let guard = 0; nodeId !== null && guard < 20; guard++) {
    const node = workflow.nodes[nodeId] as Node | undefined;
    if (!node) throw new Error(`sim workflow ${workflow.key} has no node ${nodeId}`);
    if (node.kind === "action") {
      steps.push({ nodeId, outcome: "next", action: true });
      nodeId = node.next ?? null;
    } else if (node.kind === "condition") {
      const field = node.when?.field === "eventResult" ? current.result : undefined;
      const result = field === node.when?.value;
      steps.push({ nodeId, outcome: String(result) });
      nodeId = (result ? node.true : node.false) ?? null;
    } else {
      const pausedAt = run?.steps.find((s) => s.nodeId === nodeId)?.startedAt;
      if (pausedAt === undefined) return { steps, status: null };
      const last = current;
      const candidates = events.filter(
        (e) =>
          !seen.has(e.uuid) &&
          e.source === trigger.source &&
          e.assetId === trigger.assetId &&
          (node.eventTypes ?? []).includes(e.eventType) &&
          e.published >= last.published,
      );
      const arrival = (e: SimEvent) => arrivedAt(e.uuid) ?? Number.POSITIVE_INFINITY;
      // Where a timeout is measured from is the engine's choice: the pause (5cec95e) or the
      // event the run saw last (the fenced engine). Only what both agree on is checked.
      const timeout = (node.timeoutSeconds ?? 0) * 1000;
      const early = decide(candidates, last.published + timeout, arrival);
      const late = decide(candidates, pausedAt + timeout, arrival);
      if (early === "race" || late === "race" || !sameDecision(early, late)) return { steps, status: null };
      const able = late;
      if (able.length === 0) {
        steps.push({ nodeId, outcome: "timeout" });
        if (!node.onTimeout) return { steps, status: "timed_out" };
        nodeId = node.onTimeout;
        continue;
      }
      // Buffered or not is judged against when the wait reached its room; unseen, any may win.
      const registered = seenBy.registeredAt(nodeId);
      const acceptable =
        registered === null
          ? able
          : able.filter((e) => !able.some((f) => f !== e && definitelyBefore(f, e, registered, arrival)));
      // Several events the rules let win (a tie in the same millisecond, or arrivals racing the
      // pause): follow the engine's choice among them.
      const taken = run?.steps.find((s) => s.nodeId === nodeId)?.eventUuid;
      const chosen = acceptable.find((e) => e.uuid === taken) ?? acceptable[0];
      if (!chosen) return { steps, status: null };
      steps.push({ nodeId, outcome: "next", eventUuids: acceptable.map((e) => e.uuid) });
      seen.add(chosen.uuid);
      current = chosen;
      nodeId = node.next ?? null;
    }
  }
  return { steps, status: "completed" };
}
