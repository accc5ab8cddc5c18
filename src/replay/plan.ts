/**
 * What a replay would do, decided from plain data: for each stored event, the enabled
 * workflows whose trigger it matches and that have no run for it yet (a (workflow,
 * event) pair runs at most once), and the waiting runs on its asset that the events
 * sent again would resume. Pure.
 */
import { WaitingFor } from "../db/wait-state";
import { waitAccepts } from "../durable/wait-match";
import type { EventFields } from "../okta/event-fields";
import type { WorkflowDefinition } from "../workflows/definition";
import { matchesTrigger } from "../workflows/trigger";

export interface ReplayEvent {
  uuid: string;
  fields: EventFields;
}

export interface TriggerCandidate {
  workflowId: string;
  version: number;
  eventType: string;
  definition: Pick<WorkflowDefinition, "trigger">;
}

export interface WaitingRun {
  id: string;
  workflowId: string;
  waitingFor: unknown;
}

export interface ReplayPlan {
  /** The runs the replay starts. */
  start: { workflowId: string; version: number; eventUuid: string; eventType: string; assetId: string | null }[];
  /** Pairs left alone because a run exists for them. */
  alreadyRan: { workflowId: string; eventUuid: string }[];
  /** Waiting runs an event of the replay would resume, unless their WaitRoom has seen that event already. */
  resumes: { runId: string; workflowId: string; eventUuid: string }[];
}

export function planReplay(
  events: readonly ReplayEvent[],
  candidates: readonly TriggerCandidate[],
  existing: ReadonlyArray<{ workflowId: string; triggerEventUuid: string }>,
  waiting: readonly WaitingRun[],
): ReplayPlan {
  const ran = new Set(existing.map((pair) => `${pair.workflowId}\n${pair.triggerEventUuid}`));
  const byType = Map.groupBy(candidates, (candidate) => candidate.eventType);
  const plan: ReplayPlan = { start: [], alreadyRan: [], resumes: [] };
  for (const event of events) {
    for (const candidate of byType.get(event.fields.eventType) ?? []) {
      if (!matchesTrigger(candidate.definition.trigger, event.fields)) continue;
      if (ran.has(`${candidate.workflowId}\n${event.uuid}`)) {
        plan.alreadyRan.push({ workflowId: candidate.workflowId, eventUuid: event.uuid });
        continue;
      }
      plan.start.push({
        workflowId: candidate.workflowId,
        version: candidate.version,
        eventUuid: event.uuid,
        eventType: event.fields.eventType,
        assetId: event.fields.id,
      });
    }
  }
  // Only events that start a run are sent to the queue again, so only they reach the WaitRooms.
  const sent = new Set(plan.start.map((run) => run.eventUuid));
  const replayed = events.filter((event) => sent.has(event.uuid));
  for (const run of waiting) {
    const parsed = WaitingFor.safeParse(run.waitingFor);
    if (!parsed.success) continue;
    const wait = parsed.data;
    // A row of an older deploy has no `after`: then any later event on the asset counts.
    const after = wait.after ?? { uuid: "", eventDate: "" };
    const match = replayed.find(
      (event) =>
        event.fields.id === wait.assetId &&
        waitAccepts({ eventTypes: wait.eventTypes, filter: wait.filter, after }, event),
    );
    if (match) plan.resumes.push({ runId: run.id, workflowId: run.workflowId, eventUuid: match.uuid });
  }
  return plan;
}
