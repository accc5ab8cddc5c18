/**
 * The five invariants of issue 15, checked after a seed ran to quiescence, from what D1
 * holds (through engine-view.ts), what the WaitRooms hold and the recorded outbound calls.
 * Each check counts once in `checks`; each failure names its invariant.
 */
import { ENDED, type EventFate, LEASE_MS, type RunView, waitRoomName } from "./engine-view";
import { type Expected, expectedPath } from "./oracle";
import type { OutboundCall } from "./outside";
import type { SimEvent } from "./schedule";
import type { SimWorkflow } from "./workflows";

export interface Violation {
  invariant: 1 | 2 | 3 | 4 | 5;
  message: string;
}

export interface Observed {
  /** The seed's events, `published` in absolute ms. */
  events: readonly SimEvent[];
  /** Events some delivery of which Okta saw answered 200. */
  accepted: ReadonlySet<string>;
  /** When Okta first saw each accepted event answered 200 (simulated ms). */
  acceptedAt: ReadonlyMap<string, number>;
  fates: ReadonlyMap<string, EventFate>;
  /** When each event first reached a WaitRoom (harness-observed). */
  reached: ReadonlyMap<string, number>;
  /** When the harness saw a wait first reach its room. */
  registeredAt: (runId: string, nodeId: string) => number | null;
  /** The WaitRooms each event was handed to. */
  roomsOf: (uuid: string) => string[];
  runs: readonly RunView[];
  /** Sim workflow of each stored workflow id. */
  workflows: ReadonlyMap<string, SimWorkflow>;
  calls: readonly OutboundCall[];
  /** Whether the WaitRoom the run should wait in holds its wait. */
  registered: (run: RunView) => Promise<boolean>;
  now: number;
  /**
   * Whether the plan had a fault that may crash a consumer between a call and its record
   * (a dying consumer, a D1 error, a lease lost mid-call): only then may an answered call repeat.
   */
  crashes: boolean;
  /**
   * When a hang-death killed a consumer (simulated ms): a call answered at or after one of
   * these may repeat (its consumer was dead before it could record it); one answered
   * earlier, while the consumer still lived, may not.
   */
  killedAt: readonly number[];
  /**
   * Whether the plan's only faults are single D1 errors (d1-blip): then a run without waits
   * ends within a lease of its trigger's acceptance, as the queue's retry carries it on at
   * once (finding 10: it found the failed attempt's lease and left the run to the cron).
   */
  prompt: boolean;
}

export interface Verdict {
  violations: Violation[];
  checks: number;
}

export async function checkInvariants(o: Observed): Promise<Verdict> {
  const violations: Violation[] = [];
  let checks = 0;
  const check = (ok: boolean, invariant: Violation["invariant"], message: () => string) => {
    checks += 1;
    if (!ok) violations.push({ invariant, message: message() });
  };
  const byUuid = new Map(o.events.map((e) => [e.uuid, e]));
  const stored = o.events.filter((e) => o.fates.has(e.uuid));

  // 1. Every accepted event is stored, and consumed or dead-lettered with a record.
  for (const uuid of o.accepted) check(o.fates.has(uuid), 1, () => `event ${uuid} was answered 200 but is not stored`);
  for (const e of stored) {
    const fate = o.fates.get(e.uuid);
    check(
      Boolean(fate?.consumedAt || fate?.deadLettered),
      1,
      () => `event ${e.uuid} (${e.eventType}) neither consumed nor dead-lettered`,
    );
  }

  // 2. Every run ended, or waits with a registered wait and a future deadline.
  for (const run of o.runs) {
    if (ENDED.includes(run.status)) {
      check(true, 2, () => "");
      continue;
    }
    const waiting = run.status === "waiting" && run.waitingUntil !== null && run.waitingUntil > o.now;
    check(waiting && (await o.registered(run)), 2, () => `run ${run.id} (${label(o, run)}) is stuck ${run.status}`);
  }

  // 2, in time: after a single D1 error a run without waits does not wait for the cron.
  if (o.prompt) {
    for (const run of o.runs) {
      const workflow = o.workflows.get(run.workflowId);
      const acceptedAt = o.acceptedAt.get(run.triggerUuid);
      if (!workflow || acceptedAt === undefined || Object.values(workflow.nodes).some((n) => n.kind === "event"))
        continue;
      const took = (run.endedAt ?? o.now) - acceptedAt;
      check(
        took <= LEASE_MS,
        2,
        () =>
          `run ${run.id} (${label(o, run)}) ended ${Math.round(took / 1000)} s after its trigger was accepted, after a single D1 error (more than a lease: it waited for the cron)`,
      );
    }
  }

  // 3. Each run took the oracle's path; one run per (workflow, trigger) the oracle starts, and no other.
  const expected = new Map<RunView, Expected>();
  for (const [workflowId, workflow] of o.workflows) {
    for (const trigger of stored.filter((e) => e.eventType === workflow.trigger)) {
      const runs = o.runs.filter((r) => r.workflowId === workflowId && r.triggerUuid === trigger.uuid);
      const fate = o.fates.get(trigger.uuid);
      // An event given up with a dead letter may have started its runs or not; one consumed has them.
      const maybe = fate?.deadLettered && fate.consumedAt === null;
      check(
        runs.length === 1 || (maybe === true && runs.length === 0),
        3,
        () => `${workflow.key} on ${trigger.uuid}: ${runs.length} runs, expected 1`,
      );
      const run = runs[0];
      if (!run) continue;
      const want = expectedPath(
        workflow,
        trigger,
        stored,
        {
          arrivedAt: (uuid) => o.reached.get(uuid) ?? null,
          registeredAt: (nodeId) => o.registeredAt(run.id, nodeId),
        },
        run,
      );
      expected.set(run, want);
      comparePath(run, want, workflow, (ok, message) =>
        check(ok, 3, () => `${message()}${waitDetail(o, run, workflow)}`),
      );
    }
  }
  for (const run of o.runs) check(expected.has(run), 3, () => `run ${run.id} (${label(o, run)}) has no oracle run`);

  // 4. Each action the oracle calls is called, always under one key, never after its run ended.
  for (const [run, want] of expected) {
    const mine = o.calls.filter((c) => c.runId === run.id);
    for (const step of want.steps.filter((s) => s.action)) {
      const calls = mine.filter((c) => c.node === step.nodeId);
      // Ended from outside (an admin, or cancel-on): an action on the path may never have come.
      const terminated = run.status === "terminated" || run.status === "cancelled";
      if (!terminated)
        check(calls.length > 0, 4, () => `run ${run.id} (${label(o, run)}): ${step.nodeId} never called`);
      const keys = new Set(calls.map((c) => c.key));
      check(
        keys.size <= 1 && !keys.has(null),
        4,
        () => `run ${run.id}: ${step.nodeId} called under keys ${[...keys].join(", ")}`,
      );
    }
    // One consumer at a time: a key is called again while a call of it is in flight only if
    // that call outlasted a lease (its consumer may have lost the run to another).
    for (const call of mine) {
      const overlapping = mine.find(
        (c) =>
          c !== call && c.node === call.node && c.at < call.at && (c.answeredAt === null || c.answeredAt > call.at),
      );
      check(
        !overlapping || call.at - overlapping.at >= LEASE_MS,
        4,
        () =>
          `run ${run.id} (${label(o, run)}): ${call.node} called while a call of the same key, started ${call.at - (overlapping?.at ?? 0)} ms before, was in flight (two consumers)`,
      );
    }
    // Each action runs once: a call answered 2xx is repeated only after a crash.
    if (!o.crashes) {
      const excused = (c: OutboundCall) =>
        c.answeredAt !== null && o.killedAt.some((t) => c.answeredAt !== null && c.answeredAt >= t);
      for (const call of mine) {
        const answered = mine.find(
          (c) => c.node === call.node && c.at < call.at && c.status >= 200 && c.status < 300 && !excused(c),
        );
        check(
          !answered,
          4,
          () =>
            `run ${run.id} (${label(o, run)}): ${call.node} called again after a 2xx answer${answered?.answeredAt != null && o.killedAt.length > 0 ? ` ${((o.killedAt[0] ?? 0) - answered.answeredAt) / 1000} s before its consumer died` : ", with no crash in the plan"}`,
        );
      }
    }
    for (const call of mine) {
      const onPath = want.status === null || want.steps.some((s) => s.action && s.nodeId === call.node);
      check(onPath, 4, () => `run ${run.id} (${label(o, run)}): ${call.node} called, not on the oracle's path`);
      check(
        run.endedAt === null || call.at <= run.endedAt,
        4,
        () =>
          `run ${run.id} (${label(o, run)}): ${call.node} called ${call.at - (run.endedAt ?? 0)} ms after the run ended ${run.status}`,
      );
    }
  }
  const known = new Set(o.runs.map((r) => r.id));
  for (const call of o.calls)
    check(known.has(call.runId), 4, () => `call to ${call.workflow}/${call.node} for unknown run ${call.runId}`);

  // 5. No event resumes a run twice, nor a run of another source (or asset).
  for (const run of o.runs) {
    const trigger = byUuid.get(run.triggerUuid);
    const resumers = run.steps.flatMap((s) => (s.eventUuid ? [s.eventUuid] : []));
    check(
      new Set(resumers).size === resumers.length && !resumers.includes(run.triggerUuid),
      5,
      () => `run ${run.id} (${label(o, run)}) resumed twice by one event: ${resumers.join(", ")}`,
    );
    for (const uuid of resumers) {
      const event = byUuid.get(uuid);
      check(
        event !== undefined &&
          trigger !== undefined &&
          event.source === trigger.source &&
          event.assetId === trigger.assetId,
        5,
        () =>
          `run ${run.id} of source ${trigger?.source ?? "(default)"} resumed by ${uuid} of source ${event?.source ?? "(default)"}`,
      );
    }
  }
  return { violations, checks };
}

function comparePath(
  run: RunView,
  want: Expected,
  workflow: SimWorkflow,
  check: (ok: boolean, m: () => string) => void,
) {
  const got = run.steps.filter((s) => s.outcome !== null);
  const path = (
    steps: ReadonlyArray<{ nodeId: string; outcome: string | null; eventUuid?: string | null; eventUuids?: string[] }>,
  ) =>
    steps
      .map((s) => {
        const events = s.eventUuids ?? (s.eventUuid ? [s.eventUuid] : []);
        return `${s.nodeId}:${s.outcome}${events.length ? `(${events.map((u) => u.slice(0, 8)).join("|")})` : ""}`;
      })
      .join(" > ");
  // A run terminated or cancelled may stop anywhere; a walk that stopped at a race checks only its prefix.
  const terminated = run.status === "terminated" || run.status === "cancelled";
  const length =
    terminated || want.status === null
      ? Math.min(got.length, want.steps.length)
      : Math.max(got.length, want.steps.length);
  let same = true;
  for (let i = 0; i < length; i++) {
    const a = got[i];
    const b = want.steps[i];
    const eventOk = !b?.eventUuids || (a?.eventUuid !== null && b.eventUuids.includes(a?.eventUuid ?? ""));
    if (!a || !b || a.nodeId !== b.nodeId || a.outcome !== b.outcome || !eventOk) same = false;
  }
  // A run that ended must have ended as the oracle says; one the oracle cancels must have been cancelled (or terminated).
  if (want.status !== null && ENDED.includes(run.status) && run.status !== "terminated")
    same &&= run.status === want.status;
  check(
    same,
    () =>
      `run ${run.id} (${workflow.key}): took ${path(got)} [${run.status}], oracle ${path(want.steps)} [${want.status ?? "open race"}]`,
  );
}

/** For a reader of a failure: when each wait paused, and when its resuming event was published and reached the room. */
function waitDetail(o: Observed, run: RunView, workflow: SimWorkflow): string {
  const byUuid = new Map(o.events.map((e) => [e.uuid, e]));
  const trigger = byUuid.get(run.triggerUuid);
  const parts = run.steps.flatMap((step) => {
    const node = workflow.nodes[step.nodeId];
    if (step.kind !== "event" || !node || typeof node.timeoutSeconds !== "number" || !trigger) return [];
    const deadline = step.startedAt + node.timeoutSeconds * 1000;
    const rel = (t: number | undefined) => (t === undefined ? "never" : `${((t - deadline) / 1000).toFixed(1)}s`);
    // Every event the wait might have taken, with its times relative to the deadline.
    const types = Array.isArray(node.eventTypes) ? (node.eventTypes as string[]) : [];
    const candidates = o.events.filter(
      (e) => e.source === trigger.source && e.assetId === trigger.assetId && types.includes(e.eventType),
    );
    const seen = candidates.map(
      (e) =>
        `${e.uuid.slice(0, 8)} published ${rel(e.published)}, reached a room ${rel(o.reached.get(e.uuid))} (${o.roomsOf(e.uuid).join(" ")})`,
    );
    const took = step.eventUuid ? `took ${step.eventUuid.slice(0, 8)}` : String(step.outcome);
    const room = waitRoomName(trigger.source, trigger.assetId);
    return [
      `${step.nodeId} paused ${rel(step.startedAt)} in ${room} and ${took}; ${seen.join(", ") || "no candidates"}`,
    ];
  });
  return parts.length > 0 ? ` {times from pause + timeout: ${parts.join("; ")}}` : "";
}

function label(o: Observed, run: RunView): string {
  return o.workflows.get(run.workflowId)?.key ?? run.workflowId;
}
