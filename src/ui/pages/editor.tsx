/**
 * The definition editor: the JSON in a textarea, every problem listed with its line
 * and shown in place (the lines around it, marked), and a dry run against stored
 * events. Used for new workflows and for new versions of existing ones.
 */
import type { Context } from "hono";
import { createDb, type Db } from "../../db/client";
import { eventSummary, fieldsOf } from "../../db/event-rows";
import { getEvent, listEvents, listPublishedBetween } from "../../db/events";
import type { EventRow } from "../../db/schema";
import { openWindow } from "../../db/suppressions";
import { eventContext } from "../../okta/event-context";
import type { EventFields } from "../../okta/event-fields";
import { keepFrom } from "../../workflows/count-window";
import type { WorkflowDefinition } from "../../workflows/definition";
import { type DryCount, dryCount } from "../../workflows/dry-count";
import { type DryRun, dryRun } from "../../workflows/dry-run";
import { formatDelay } from "../../workflows/lateness";
import { readScope, suppressionSlot } from "../../workflows/suppression";
import type { DashboardEnv } from "../auth";
import { Time } from "../components";
import type { Problem } from "../definition-problems";
import { describeTypes } from "../diagram/describe";
import { layoutWorkflow, type RunMarks } from "../diagram/layout";
import { DiagramSvg } from "../diagram/svg";
import { eventTypeName, formatTime, shortId } from "../format";
import { Layout } from "../layout";
import { link } from "../link";

export interface EditorState {
  title: string;
  /** Where the form posts. */
  action: string;
  text: string;
  problems?: Problem[];
  /** Set after a successful "Validate" or a dry run: the definition as it would be saved. */
  valid?: WorkflowDefinition;
  dryRun?: {
    result: DryRun;
    triggerUuid: string;
    resumeUuid?: string;
    suppression?: DrySuppression;
    count?: DryCount;
  };
  /** An error from saving that the checks above did not catch (e.g. a concurrent save). */
  saveError?: string;
}

function Excerpt(props: { text: string; problem: Problem }) {
  const { problem } = props;
  if (problem.line === null) return null;
  const lines = props.text.split("\n");
  const first = Math.max(1, problem.line - 2);
  const last = Math.min(lines.length, problem.line + 2);
  const shown = [];
  for (let n = first; n <= last; n++) {
    const isAt = n === problem.line;
    shown.push(
      <span class={isAt ? "line at" : "line"}>
        <span class="ln">{n}</span>
        {lines[n - 1]}
        {"\n"}
      </span>,
    );
    if (isAt) {
      shown.push(
        <span class="line caret">
          <span class="ln" />
          {`${" ".repeat(Math.max(0, (problem.column ?? 1) - 1))}^ ${problem.message}`}
          {"\n"}
        </span>,
      );
    }
  }
  return <pre class="excerpt">{shown}</pre>;
}

function DryRunResult(props: { run: DryRun }) {
  const { run } = props;
  if (!run.triggered) return <p class="error">This event does not match the trigger: no run would start.</p>;
  const endText = {
    completed: "The run would complete.",
    failed: "The run would fail here.",
    timed_out: "The run would end timed out.",
    cancelled: "The run would end cancelled: the resume event matches the workflow's cancel-on rule.",
    waiting: "The run would wait here (no timeout).",
    not_triggered: "",
  }[run.end];
  return (
    <>
      <ol class="timeline">
        {run.steps.map((step) => (
          <li class={step.kind === "action" && step.error ? "step-failed" : "step-succeeded"}>
            <div class="step-head">
              <strong>{step.name ?? step.nodeId}</strong>
              <span class="muted">
                {" "}
                {step.kind} · {step.nodeId}
              </span>
              {step.kind === "condition" && <span class="outcome">→ {step.outcome}</span>}
              {step.kind === "event" && (
                <span class="outcome">
                  →{" "}
                  {step.outcome === "next"
                    ? "resumed by the resume event"
                    : step.outcome === "timeout"
                      ? "no matching event given: timeout path"
                      : step.outcome === "cancelled"
                        ? "cancelled by the resume event (cancel-on)"
                        : "waits"}
                </span>
              )}
            </div>
            {step.kind === "event" && (
              <p class="muted">
                waits for {describeTypes(step.eventTypes)} on asset {step.assetId ?? "?"}
              </p>
            )}
            {step.kind === "action" && step.error && <p class="error">{step.error}</p>}
            {step.kind === "action" && step.request && (
              <div class="request">
                <p>
                  Would send <strong>{step.request.method}</strong> {step.request.url ?? step.request.label}
                </p>
                <pre>
                  {step.request.headers.map(([name, value]) => `${name}: ${value}\n`).join("")}
                  {step.request.body ? `\n${prettyBody(step.request.body)}` : ""}
                </pre>
              </div>
            )}
          </li>
        ))}
      </ol>
      <p>
        <strong>{endText}</strong> Nothing was sent.
      </p>
    </>
  );
}

/** The dry run's path in the shape the diagram marks a real run's. */
function dryRunMarks(run: DryRun): RunMarks {
  const steps = run.steps.map((step) => {
    if (step.kind === "action") {
      return { nodeId: step.nodeId, status: step.error ? "failed" : "succeeded", outcome: step.error ? null : "next" };
    }
    if (step.kind === "condition") return { nodeId: step.nodeId, status: "succeeded", outcome: step.outcome };
    if (step.outcome === "cancelled") return { nodeId: step.nodeId, status: "terminated", outcome: null };
    return step.outcome === "waiting"
      ? { nodeId: step.nodeId, status: "waiting", outcome: null }
      : { nodeId: step.nodeId, status: "succeeded", outcome: step.outcome };
  });
  const waiting = run.steps.find((step) => step.kind === "event" && step.outcome === "waiting");
  return { steps, waitingAt: waiting?.nodeId ?? null };
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    // Not JSON (a text body): show it as it would be sent.
    return body;
  }
}

/** Renders the editor page; `status` is 400 when there are problems, so scripts and tests can tell. */
export async function renderEditor(c: Context<DashboardEnv>, state: EditorState) {
  const recent = (await listEvents(createDb(c.env.DB), { limit: 50 })).map(eventSummary);
  const option = (e: (typeof recent)[number], selected: string | undefined) => (
    <option value={e.uuid} selected={e.uuid === selected}>
      {`${formatTime(e.eventDate)} · ${eventTypeName(e.eventType)} · ${e.displayName ?? e.id ?? ""}`}
    </option>
  );
  const problems = state.problems ?? [];
  return c.html(
    <Layout title={state.title} section="workflows">
      <form method="post" action={state.action} class="editor">
        <div class="columns">
          <section>
            <label for="definition">Definition (JSON)</label>
            <textarea id="definition" name="definition" rows={32} spellcheck={false} class="code">
              {state.text}
            </textarea>
            <p class="muted hint">Tab indents inside the editor; press Esc, then Tab, to move on.</p>
            <p class="buttons">
              <button type="submit" name="intent" value="save" class="primary">
                Save
              </button>
              <button type="submit" name="intent" value="validate">
                Validate without saving
              </button>
              <a href="/catalogue">Event Fields and types</a> · <a href="/workflows">Cancel</a>
            </p>
          </section>
          <section>
            {state.saveError && (
              <p class="error" role="alert">
                {state.saveError}
              </p>
            )}
            {problems.length > 0 && (
              <div class="problems" role="alert">
                <h2>
                  {problems.length} problem{problems.length === 1 ? "" : "s"}
                </h2>
                <ol>
                  {problems.map((problem) => (
                    <li>
                      <a
                        href="#definition"
                        class="problem"
                        data-offset={problem.offset ?? undefined}
                        data-length={problem.length}
                      >
                        {problem.line !== null ? `line ${problem.line}, column ${problem.column}` : "document"}
                      </a>
                      : {problem.message}
                      <Excerpt text={state.text} problem={problem} />
                    </li>
                  ))}
                </ol>
              </div>
            )}
            {state.valid && problems.length === 0 && (
              <>
                <p class="ok" role="status">
                  The definition is valid.
                </p>
                <DiagramSvg
                  diagram={layoutWorkflow(state.valid, state.dryRun && dryRunMarks(state.dryRun.result))}
                  label={state.dryRun ? "Diagram with the dry run's path" : "Diagram of the definition"}
                />
              </>
            )}
            <fieldset class="dry-run">
              <legend>Test against a stored event (dry run: nothing is sent)</legend>
              <label>
                Trigger event
                <select name="triggerUuid" required>
                  {recent.map((e) => option(e, state.dryRun?.triggerUuid))}
                </select>
              </label>
              <label>
                Event that resumes an event node (optional)
                <select name="resumeUuid">
                  <option value="">none: event nodes take their timeout path</option>
                  {recent.map((e) => option(e, state.dryRun?.resumeUuid))}
                </select>
              </label>
              <button type="submit" name="intent" value="test">
                Dry run
              </button>
            </fieldset>
            {state.dryRun && (
              <section class="dry-run-result" aria-live="polite">
                <h2>Dry run</h2>
                <DryRunResult run={state.dryRun.result} />
                {state.dryRun.count && <DryCountNote note={state.dryRun.count} />}
                {state.dryRun.suppression && <DrySuppressionNote note={state.dryRun.suppression} />}
              </section>
            )}
          </section>
        </div>
      </form>
    </Layout>,
    problems.length > 0 || state.saveError ? 400 : 200,
  );
}

/** Stored events a threshold's dry run replays at most (two windows before the event). */
const DRY_COUNT_LIMIT = 5000;

/** Would the dry run's trigger event complete its threshold window? Replayed from the stored events before it. */
async function dryCountOf(
  db: Db,
  definition: WorkflowDefinition,
  trigger: Omit<EventRow, "raw">,
): Promise<DryCount | undefined> {
  const { threshold } = definition.trigger;
  if (!threshold) return undefined;
  const at = Date.parse(trigger.eventDate);
  const rows = await listPublishedBetween(db, {
    source: trigger.source,
    from: new Date(keepFrom(at, threshold.withinSeconds * 1000)).toISOString(),
    to: trigger.eventDate,
    limit: DRY_COUNT_LIMIT,
  });
  const stored = (row: Omit<EventRow, "raw">) => ({
    uuid: row.uuid,
    fields: fieldsOf(row),
    context: eventContext(row.actor, row.clientIp),
  });
  return dryCount({ ...definition.trigger, threshold }, stored(trigger), rows.map(stored));
}

function DryCountNote(props: { note: DryCount }) {
  const { note } = props;
  if (note.key === null) return <p>Threshold: this event has no value for the key, so it is not counted.</p>;
  return (
    <p>
      Threshold key <code>{note.key}</code>: {note.matched} matching event{note.matched === 1 ? "" : "s"} of this key in
      the two windows up to this one.{" "}
      {note.fires
        ? `Counted from the stored events, this event completes a window of ${note.fires.n}: it would start a run.`
        : "Counted from the stored events, this event completes no window: it would start no run."}
    </p>
  );
}

/** What suppression would do with the dry run's trigger event, were it to arrive now. */
type DrySuppression =
  | { key: null }
  | { key: string; source: string | null; forSeconds: number; open: { runId: string; until: string } | null };

function DrySuppressionNote(props: { note: DrySuppression }) {
  const { note } = props;
  if (note.key === null) {
    return <p>Suppression: the key renders empty for this event, so it is never suppressed.</p>;
  }
  return (
    <p>
      Suppression key <code>{note.key}</code>
      {note.source ? ` in ${note.source}` : ""}:{" "}
      {note.open ? (
        <>
          a window is open until <Time iso={note.open.until} />, so arriving now this event would start no run and be
          counted on run <a href={link`/runs/${note.open.runId}`}>{shortId(note.open.runId)}</a>.
        </>
      ) : (
        `no window is open, so arriving now it would start a run and suppress matches with this key for ${formatDelay(note.forSeconds)}.`
      )}
    </p>
  );
}

async function drySuppression(
  db: Db,
  definition: WorkflowDefinition,
  fields: EventFields,
  workflowId: string,
  countKey?: string,
): Promise<DrySuppression | undefined> {
  if (!definition.suppress) return undefined;
  const { threshold } = definition.trigger;
  const count =
    countKey && threshold
      ? {
          key: countKey,
          by: threshold.by,
          distinct: threshold.distinct ?? null,
          n: threshold.count,
          withinSeconds: threshold.withinSeconds,
          events: [],
        }
      : null;
  const slot = await suppressionSlot(definition.suppress, fields, workflowId, count);
  const scope = slot && readScope(slot.scope);
  if (!slot || !scope) return { key: null };
  const open = await openWindow(db, workflowId, slot.scope, new Date());
  return { ...scope, forSeconds: slot.forSeconds, open };
}

/** Runs the definition on paper against stored events (by uuid); throws nothing for unknown uuids, it reports them. */
export async function dryRunAgainst(
  c: Context<DashboardEnv>,
  definition: WorkflowDefinition,
  workflowId: string,
  triggerUuid: string,
  resumeUuid: string | undefined,
): Promise<
  | { result: DryRun; triggerUuid: string; resumeUuid?: string; suppression?: DrySuppression; count?: DryCount }
  | { error: string }
> {
  const db = createDb(c.env.DB);
  const [trigger, resume] = await Promise.all([
    getEvent(db, triggerUuid),
    resumeUuid ? getEvent(db, resumeUuid) : Promise.resolve(undefined),
  ]);
  if (!trigger) return { error: `no stored event ${triggerUuid}` };
  if (resumeUuid && !resume) return { error: `no stored event ${resumeUuid}` };
  const result = dryRun(definition, {
    trigger: { uuid: trigger.uuid, fields: fieldsOf(trigger) },
    resume: resume ? { uuid: resume.uuid, fields: fieldsOf(resume) } : undefined,
    env: c.env,
    workflowId,
  });
  const count = result.triggered ? await dryCountOf(db, definition, trigger) : undefined;
  // A threshold event that completes no window starts no run: there is nothing to suppress.
  const counted = count?.key && count.fires && definition.trigger.threshold ? count : null;
  const suppression =
    result.triggered && (!definition.trigger.threshold || counted)
      ? await drySuppression(db, definition, fieldsOf(trigger), workflowId, counted?.key)
      : undefined;
  return { result, triggerUuid, resumeUuid, suppression, count };
}
