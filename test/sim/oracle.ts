/**
 * The oracle: a pure walk of each workflow over the seed's events, as the engine should
 * take it with no fault at all. It encodes the intended rules (issue 15), not today's
 * code: a wait takes the earliest event on its own (source, asset) that the run has not
 * seen, published no earlier than the last one it saw and no later than its deadline;
 * otherwise it times out. The deadline is the pause time (the wait step's start in D1)
 * plus the node's timeout. Where the answer hangs on a race the rules leave open (an
 * event published within a few seconds of the deadline, or one that only reached the
 * engine after the deadline had passed), the walk stops there and only the path before
 * it is checked.
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
  status: "completed" | "timed_out" | null;
}

/** How close to a deadline an event must be for the order of the two to be a race. */
const RACE_MS = 5_000;

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
 * `events`: the seed's events D1 stored, with their absolute `published`; `arrivedAt`:
 * when each reached the engine (consumed_at); `run`: the engine's run, for its pause times.
 */
export function expectedPath(
  workflow: SimWorkflow,
  trigger: SimEvent,
  events: readonly SimEvent[],
  arrivedAt: (uuid: string) => number | null,
  run: RunView | undefined,
): Expected {
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
      const deadline = pausedAt + (node.timeoutSeconds ?? 0) * 1000;
      const last = current;
      const candidates = events.filter(
        (e) =>
          !seen.has(e.uuid) &&
          e.source === trigger.source &&
          e.assetId === trigger.assetId &&
          (node.eventTypes ?? []).includes(e.eventType) &&
          e.published >= last.published,
      );
      if (candidates.some((e) => Math.abs(e.published - deadline) < RACE_MS)) return { steps, status: null };
      const inTime = candidates.filter((e) => e.published <= deadline).sort((a, b) => a.published - b.published);
      const first = inTime[0];
      if (!first) {
        steps.push({ nodeId, outcome: "timeout" });
        if (!node.onTimeout) return { steps, status: "timed_out" };
        nodeId = node.onTimeout;
        continue;
      }
      const tied = inTime.filter((e) => e.published === first.published);
      // An event that reached the engine only after the deadline: whether it still wins is a race.
      if (tied.some((e) => (arrivedAt(e.uuid) ?? Number.POSITIVE_INFINITY) > deadline - RACE_MS))
        return { steps, status: null };
      // Tied events are taken in an order the rules leave open: follow the engine's choice among them.
      const taken = run?.steps.find((s) => s.nodeId === nodeId)?.eventUuid;
      const chosen = tied.find((e) => e.uuid === taken) ?? first;
      steps.push({ nodeId, outcome: "next", eventUuids: tied.map((e) => e.uuid) });
      seen.add(chosen.uuid);
      current = chosen;
      nodeId = node.next ?? null;
    }
  }
  return { steps, status: "completed" };
}
