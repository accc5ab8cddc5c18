/**
 * The invariants of docs/architecture.md, checked after a seed has healed, against an
 * oracle: what the same events must lead to without faults (pure, from the schedule).
 * Each returns the violations it found, as sentences a failing seed prints.
 */
import { eventStates, type RunView, roomOf, runsOf } from "./engine-view";
import type { OutboundCall, Outcome } from "./run";
import { endpoint } from "./run";
import { CREATE, REVOKE, type Schedule, type SimEvent } from "./schedule";

export interface Checked {
  violations: string[];
  checks: number;
}

/** The REVOKE events that may resume the `wait` run of `trigger`: its org, its asset, not before it. */
function acceptable(s: Schedule, trigger: SimEvent): SimEvent[] {
  return s.events.filter(
    (e) =>
      e.eventType === REVOKE &&
      e.source === trigger.source &&
      e.assetId === trigger.assetId &&
      e.published >= trigger.published &&
      e.uuid !== trigger.uuid,
  );
}

export async function checkInvariants(s: Schedule, outcome: Outcome, calls: readonly OutboundCall[]): Promise<Checked> {
  const violations: string[] = [];
  let checks = 0;
  const check = (ok: boolean, what: string) => {
    checks += 1;
    if (!ok) violations.push(what);
  };
  const { workflows } = outcome;
  const role = new Map(Object.entries(workflows).map(([name, id]) => [id, name]));
  const triggers = s.events.filter((e) => e.eventType === CREATE);
  const runs = await runsOf(Object.values(workflows));
  const now = Date.now();

  // Every accepted event is consumed or dead-lettered with a record.
  for (const state of await eventStates(s.events.map((e) => e.uuid))) {
    check(
      state.consumed_at !== null || state.letters > 0,
      `[lost-event] event ${state.uuid} neither consumed nor dead-lettered`,
    );
  }
  // One run per (workflow, trigger), and no other.
  for (const [name, id] of Object.entries(workflows)) {
    for (const trigger of triggers) {
      const n = runs.filter((r) => r.workflowId === id && r.trigger === trigger.uuid).length;
      check(n === 1, `[run-count] ${name}: ${n} runs for trigger ${trigger.uuid} (expected 1)`);
    }
  }
  for (const run of runs) {
    const name = role.get(run.workflowId) ?? "?";
    const trigger = triggers.find((t) => t.uuid === run.trigger);
    check(
      trigger !== undefined,
      `[run-count] ${name} run ${run.id} started by ${run.trigger}, not a trigger of the schedule`,
    );
    if (!trigger) continue;
    await checkRun(s, outcome, name, run, trigger, now, check);
    // A run's resumptions are a set: no event twice, never its own trigger.
    const taken = run.steps.flatMap((step) => (step.eventUuid ? [step.eventUuid] : []));
    check(
      new Set(taken).size === taken.length && !taken.includes(run.trigger),
      `[resumed-twice] ${name} run ${run.id} took an event twice`,
    );
  }
  // Each action key the oracle calls was called, always under its own key, never after its run ended.
  const seedCalls = calls.filter((c) => c.url.startsWith(`https://sim-${s.seed}-`));
  for (const run of runs) {
    const ended = run.endedAt ? Date.parse(run.endedAt) : Number.POSITIVE_INFINITY;
    for (const step of run.steps.filter((st) => st.status === "succeeded" && !["c", "w"].includes(st.nodeId))) {
      const key = `${run.id}:${step.nodeId}`;
      check(
        seedCalls.some((c) => c.key === key),
        `[never-called] ${key} recorded succeeded but never called`,
      );
    }
    for (const call of seedCalls.filter((c) => c.key?.startsWith(`${run.id}:`))) {
      check(
        call.at <= ended,
        `[after-end] ${call.key} called ${call.at - ended} ms after its run ended (${run.status})`,
      );
    }
  }
  const runIds = new Set(runs.map((r) => r.id));
  for (const call of seedCalls) {
    check(
      call.key !== null && runIds.has(call.key.split(":")[0] ?? ""),
      `[unknown-key] a call under an unknown key ${call.key}`,
    );
  }
  return { violations, checks };
}

/** What kind of wrong a `wait` run's end is: resumed by another org's event, never resumed, or the wrong branch. */
function tagOf(s: Schedule, run: RunView, trigger: SimEvent, took: string | null): string {
  if (s.events.some((e) => e.uuid === took && e.source !== trigger.source)) return "[cross-source]";
  if (run.status === "running") return "[stuck]";
  if (run.status === "waiting") return "[wait-not-registered]";
  return "[wrong-branch]";
}

async function checkRun(
  s: Schedule,
  outcome: Outcome,
  name: string,
  run: RunView,
  trigger: SimEvent,
  now: number,
  check: (ok: boolean, what: string) => void,
): Promise<void> {
  const label = `${name} run ${run.id} (trigger ${trigger.uuid}, ${trigger.source ?? "single-org"})`;
  if (run.status === "terminated") {
    check(outcome.terminated.includes(run.id), `[wrong-end] ${label} terminated, but nobody terminated it`);
    return;
  }
  const step = (node: string) => run.steps.find((st) => st.nodeId === node);
  const completedVia = (...nodes: string[]) =>
    run.status === "completed" && nodes.every((node) => step(node)?.status === "succeeded");
  switch (name) {
    case "one": {
      const hostile = s.faults.some((f) => f.kind === "hostile-retry-after");
      const deferred =
        run.status === "running" &&
        run.notBefore !== null &&
        /^20\d\d-/.test(run.notBefore) &&
        /^20\d\d-/.test(run.repairAfter ?? "") &&
        Date.parse(run.notBefore) <= now + 61 * 60_000;
      check(
        completedVia("a") || (hostile && deferred),
        `${run.status === "running" ? (run.notBefore ? "[unbounded-deferral]" : "[stuck]") : "[wrong-end]"} ${label}: ${run.status} (not before ${run.notBefore}), expected completed${hostile ? " or deferred by at most an hour" : ""}`,
      );
      return;
    }
    case "cond": {
      const branch = trigger.result === "SUCCESS" ? "yes" : "no";
      check(
        completedVia("c", branch) && step("c")?.outcome === (branch === "yes" ? "true" : "false"),
        `${run.status === "running" ? "[stuck]" : "[wrong-end]"} ${label}: ${run.status}, expected the ${branch} branch`,
      );
      return;
    }
    case "wait": {
      const allowed = acceptable(s, trigger).map((e) => e.uuid);
      if (allowed.length > 0) {
        const took = step("w")?.eventUuid ?? null;
        check(
          completedVia("w", "after") && took !== null && allowed.includes(took),
          `${tagOf(s, run, trigger, took)} ${label}: ${run.status} with ${took}, expected resumed by one of ${allowed.join(", ")}`,
        );
      } else {
        const until = run.waitingFor?.until ? Date.parse(run.waitingFor.until) : 0;
        const held =
          run.status === "waiting"
            ? (await roomOf(trigger.source, trigger.assetId).paused()).some((p) => p.runId === run.id)
            : false;
        check(
          run.status === "waiting" && held && until > now,
          `${tagOf(s, run, trigger, step("w")?.eventUuid ?? null)} ${label}: ${run.status} (registered: ${held}), expected waiting with a registered wait and a future deadline`,
        );
      }
      return;
    }
    case "expires":
      check(
        completedVia("w", "gone") && step("w")?.outcome === "timeout",
        `[late-deadline] ${label}: ${run.status}, expected timed out into gone (its deadline counts from the published time)`,
      );
      return;
  }
}

export { endpoint };
