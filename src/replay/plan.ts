/**
 * What a replay would do, decided from plain data: for each stored event, the enabled
 * workflows whose trigger it matches and that have no run for it yet (a (workflow,
 * event) pair runs at most once), and the waiting runs on its asset that the events
 * sent again would resume, and what the runs would send. Pure (the dry run reads secrets
 * from the env it is given, and redacts them).
 */
import { WaitingFor } from "../db/wait-state";
import { waitAccepts } from "../durable/wait-match";
import type { EventFields } from "../okta/event-fields";
import type { WorkflowDefinition } from "../workflows/definition";
import { dryRun } from "../workflows/dry-run";
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
  /** Pairs left alone because a run exists for them, or their match was suppressed. */
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

/** What the planned runs would send: one entry per (kind, target), with how many runs send it. */
export interface PlannedAction {
  kind: string;
  /** The request's label: `POST https://host/path`, `Slack webhook (SECRET_NAME)`, `Okta DELETE /api/v1/…`. */
  target: string;
  runs: number;
  /** Sent only once the run has waited at an event node (for a later event or its timeout), not when it starts. */
  afterWait: boolean;
}

/**
 * The actions the planned runs would send, worked out by the workflow dry run on each
 * run's trigger event: every action on its path, the ones behind a wait marked so (a
 * wait is taken as timing out). An action that could not be prepared is listed with
 * why, as its target. Secrets come from `env`, redacted as the dry run redacts them.
 */
export function plannedActions(
  start: ReplayPlan["start"],
  events: readonly ReplayEvent[],
  definitionOf: (workflowId: string, version: number) => WorkflowDefinition | undefined,
  env: object,
): PlannedAction[] {
  const byUuid = new Map(events.map((event) => [event.uuid, event]));
  const tally = new Map<string, PlannedAction>();
  for (const run of start) {
    const definition = definitionOf(run.workflowId, run.version);
    const trigger = byUuid.get(run.eventUuid);
    if (!definition || !trigger) continue;
    const { steps } = dryRun(definition, { trigger, env, workflowId: run.workflowId });
    let afterWait = false;
    for (const step of steps) {
      if (step.kind === "event") afterWait = true;
      if (step.kind !== "action") continue;
      const node = definition.nodes[step.nodeId];
      const kind = node?.kind === "action" ? node.action.type : "action";
      const target = step.request?.label ?? `not sent: ${step.error ?? "unknown"}`;
      const key = JSON.stringify([kind, target, afterWait]);
      const entry = tally.get(key) ?? { kind, target, runs: 0, afterWait };
      entry.runs += 1;
      tally.set(key, entry);
    }
  }
  return [...tally.values()].sort((a, b) => b.runs - a.runs || a.target.localeCompare(b.target));
}
