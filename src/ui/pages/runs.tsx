/** `/runs`: Run History with filters; `/runs/:id`: a run's timeline, its diagram with the path, terminate. */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { createDb } from "../../db/client";
import { pathsOfRuns, workflowNames } from "../../db/dashboard";
import { getEvent } from "../../db/events";
import { getRun, listRuns, listSteps } from "../../db/runs";
import { RUN_STATUSES } from "../../db/schema";
import { type RunSuppression, suppressedCounts, suppressionOfRun } from "../../db/suppressions";
import { getVersion, listWorkflows } from "../../db/workflows";
import { AppError } from "../../errors";
import { decodeCursor, pageOf } from "../../routes/cursor";
import { latenessOf } from "../../routes/run-lateness";
import type { WorkflowDefinition } from "../../workflows/definition";
import { formatDelay } from "../../workflows/lateness";
import { Predicate } from "../../workflows/predicate";
import type { CountedEvents } from "../../workflows/threshold";
import { parseDefinition } from "../../workflows/validate";
import { apiErrorMessage, callApi } from "../api-client";
import type { DashboardEnv } from "../auth";
import { Empty, EventType, JsonViewer, LateBadge, Pager, StatusBadge, Structure, Time } from "../components";
import { describePredicate, describeTypes } from "../diagram/describe";
import { layoutWorkflow } from "../diagram/layout";
import { DiagramSvg } from "../diagram/svg";
import { FilterButtons, SelectFilter, TextFilter, TimeRange } from "../filters";
import { durationBetween, formatDuration, fromLocalInput, relativeTime, shortId } from "../format";
import { Layout } from "../layout";
import { link } from "../link";
import { Filter, readQuery } from "../query";

const PAGE_SIZE = 50;
const RunsQuery = z.object({
  workflowId: Filter,
  status: z.preprocess((v) => (v === "" ? undefined : v), z.enum(RUN_STATUSES).optional()),
  id: Filter,
  since: Filter,
  until: Filter,
  cursor: Filter,
});
const CursorPosition = z.object({ startedAt: z.string(), id: z.string() });

/** The shape the engine writes to runs.waiting_for; read defensively, since an older deploy may have written it. */
const WaitingFor = z.object({
  nodeId: z.string(),
  assetId: z.string(),
  eventTypes: z.array(z.string()),
  filter: Predicate.nullish().catch(null),
  until: z.string().nullable(),
});

export const runsPages = new Hono<DashboardEnv>()
  .get("/runs", async (c) => {
    const query = readQuery(c, RunsQuery);
    const db = createDb(c.env.DB);
    const [rows, workflows] = await Promise.all([
      listRuns(db, {
        workflowId: query.workflowId,
        status: query.status,
        assetId: query.id,
        since: fromLocalInput(query.since),
        until: fromLocalInput(query.until),
        after: query.cursor ? decodeCursor(query.cursor, CursorPosition) : undefined,
        limit: PAGE_SIZE + 1,
      }),
      listWorkflows(db),
    ]);
    const { page, nextCursor } = pageOf(rows, PAGE_SIZE, (row) => ({ startedAt: row.startedAt, id: row.id }));
    const [paths, names, late, suppressed] = await Promise.all([
      pathsOfRuns(
        db,
        page.map((run) => run.id),
      ),
      workflowNames(db, [...new Set(page.map((run) => run.workflowId))]),
      latenessOf(db, page),
      suppressedCounts(
        db,
        page.map((run) => run.id),
      ),
    ]);
    const now = new Date();
    return c.html(
      <Layout title="Run History" section="runs">
        <form method="get" action="/runs" class="filters" aria-label="Filter runs">
          <SelectFilter
            label="Workflow"
            name="workflowId"
            options={workflows.map((w) => [w.id, w.name] as const)}
            selected={query.workflowId}
          />
          <SelectFilter
            label="Status"
            name="status"
            options={RUN_STATUSES.map((status) => [status, status] as const)}
            selected={query.status}
          />
          <TextFilter label="Asset ID" name="id" value={query.id} />
          <TimeRange since={query.since} until={query.until} what="Started from" />
          <FilterButtons clear="/runs" />
        </form>
        {page.length === 0 ? (
          <Empty>No runs match.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Workflow</th>
                <th scope="col">Asset</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Structure</th>
              </tr>
            </thead>
            <tbody id="live-rows" data-live={query.cursor ? undefined : "5000"}>
              {page.map((run) => (
                <tr data-key={run.id}>
                  <td class="code">
                    <a href={link`/runs/${run.id}`}>{shortId(run.id)}</a>
                  </td>
                  <td>
                    <a href={link`/workflows/${run.workflowId}`}>{names.get(run.workflowId) ?? run.workflowId}</a>{" "}
                    <span class="muted">v{run.workflowVersion}</span>
                  </td>
                  <td class="code">{run.assetId && <a href={link`/assets/${run.assetId}`}>{run.assetId}</a>}</td>
                  <td>
                    <StatusBadge status={run.status} />
                    <LateBadge late={late.get(run.id)} />
                    <SuppressedBadge count={suppressed.get(run.id) ?? 0} />
                  </td>
                  <td>
                    <Time iso={run.startedAt} />
                  </td>
                  <td>{durationBetween(run.startedAt, run.endedAt, now)}</td>
                  <td>
                    <Structure path={paths.get(run.id) ?? []} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager path="/runs" query={query} nextCursor={nextCursor} />
      </Layout>,
    );
  })
  .get("/runs/:id", (c) => runPage(c, c.req.param("id")))
  .post("/runs/:id/terminate", async (c) => {
    const id = c.req.param("id");
    const answer = await callApi(c, "POST", link`/runs/${id}/terminate`);
    if (answer.status === 404) throw new AppError(404, "not_found", "no run with that id");
    if (answer.status !== 200) return runPage(c, id, apiErrorMessage(answer), 409);
    return c.redirect(link`/runs/${id}`, 303);
  });

/** A run's page; `error` (from a refused terminate) is shown above it. */
async function runPage(c: Context<DashboardEnv>, id: string, error?: string, status: 200 | 409 = 200) {
  const db = createDb(c.env.DB);
  const run = await getRun(db, id);
  if (!run) throw new AppError(404, "not_found", "no run with that id");
  const [steps, version, trigger, names, lateness, suppressed, canceller] = await Promise.all([
    listSteps(db, run.id),
    getVersion(db, run.workflowId, run.workflowVersion),
    getEvent(db, run.triggerEventUuid),
    workflowNames(db, [run.workflowId]),
    latenessOf(db, [run]),
    suppressionOfRun(db, run),
    run.cancelledBy ? getEvent(db, run.cancelledBy) : undefined,
  ]);
  const late = lateness.get(run.id);
  const definition = parseDefinition(version?.definition);
  const waiting = run.status === "waiting" ? WaitingFor.safeParse(run.waitingFor) : null;
  const now = new Date();
  const active = run.status === "running" || run.status === "waiting";
  return c.html(
    <Layout title={`Run ${shortId(run.id)}`} section="runs">
      {/* While the run is active, dashboard.js refreshes this block so its progress shows without a reload. */}
      <div id="live-run" data-live={active ? "3000" : undefined}>
        <p class="subtitle">
          <StatusBadge status={run.status} />
          <LateBadge late={late} /> ·{" "}
          <a href={link`/workflows/${run.workflowId}`}>{names.get(run.workflowId) ?? run.workflowId}</a> version{" "}
          {run.workflowVersion} · started <Time iso={run.startedAt} /> · {run.endedAt ? "took" : "running for"}{" "}
          {durationBetween(run.startedAt, run.endedAt, now)}
        </p>
        {late?.late && (
          <p class="card warn">
            Seen {late.lateBy} late: this run started {late.lateBy} after Okta published its event (the workflow counts
            a run late after {formatDelay(late.lateAfterSeconds)}). It came from a backlog, a backfill or a replay, not
            a live delivery.
          </p>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {run.error && (
          <p class="error" role="alert">
            {run.error}
          </p>
        )}
        {run.cancelledBy && <CancelledBy uuid={run.cancelledBy} event={canceller} />}
        {waiting?.success && (
          <section class="card waiting">
            <h2>Waiting</h2>
            <p>
              At <strong>{waiting.data.nodeId}</strong> for {describeTypes(waiting.data.eventTypes)}
              {waiting.data.filter ? ` where ${describePredicate(waiting.data.filter)}` : ""} on asset{" "}
              <a class="code" href={link`/assets/${waiting.data.assetId}`}>
                {waiting.data.assetId}
              </a>
              ,{" "}
              {waiting.data.until ? (
                <>
                  until <Time iso={waiting.data.until} /> ({relativeTime(waiting.data.until, now)})
                </>
              ) : (
                "with no timeout"
              )}
              .
            </p>
          </section>
        )}
        {active && (
          <form
            method="post"
            action={link`/runs/${run.id}/terminate`}
            data-confirm="Terminate this run? It stops where it is."
          >
            <button type="submit" class="danger">
              Terminate run
            </button>
          </form>
        )}
        <div class="columns wide-left">
          <section>
            <h2>Path</h2>
            {definition.ok ? (
              <DiagramSvg
                diagram={layoutWorkflow(definition.definition, {
                  steps,
                  waitingAt: waiting?.success ? waiting.data.nodeId : null,
                })}
                label="The workflow, with the path this run took highlighted"
              />
            ) : (
              <p class="error">The stored definition of this version cannot be read: {definition.error}</p>
            )}
          </section>
          <section>
            <h2>Trigger</h2>
            {trigger ? (
              <p>
                <a href={link`/events/${trigger.uuid}`}>
                  <EventType eventType={trigger.eventType} />
                </a>{" "}
                on {trigger.assetDisplayName ?? trigger.assetId} · <Time iso={trigger.eventDate} />
              </p>
            ) : (
              <p class="muted">The triggering event is no longer stored.</p>
            )}
            {run.counted && <Counted counted={run.counted} />}
            <Suppressed
              suppressed={suppressed}
              definition={definition.ok ? definition.definition : null}
              failed={run.status === "failed"}
              now={now}
            />
            <h2>Timeline</h2>
            {steps.length === 0 ? (
              <Empty>No steps yet.</Empty>
            ) : (
              <ol class="timeline">
                {steps.map((step) => {
                  const node = definition.ok ? definition.definition.nodes[step.nodeId] : undefined;
                  return (
                    <li class={`step-${step.status}`}>
                      <div class="step-head">
                        <strong>{node?.name ?? step.nodeId}</strong>
                        <span class="muted">
                          {" "}
                          {step.kind} · {step.nodeId}
                        </span>{" "}
                        <StatusBadge status={step.status} />
                        {step.outcome && <span class="outcome">→ {step.outcome}</span>}
                      </div>
                      <div class="muted">
                        <Time iso={step.startedAt} /> · {durationBetween(step.startedAt, step.endedAt, now)}
                        {step.attempts > 1 && ` · ${step.attempts} attempts`}
                      </div>
                      {step.error && <p class="error">{step.error}</p>}
                      {step.output != null && (
                        <details>
                          <summary>Output</summary>
                          <JsonViewer value={step.output} />
                        </details>
                      )}
                    </li>
                  );
                })}
              </ol>
            )}
          </section>
        </div>
      </div>
    </Layout>,
    status,
  );
}

/** On Run History: how many matches the run's window held back, when any. */
function SuppressedBadge(props: { count: number }) {
  if (props.count === 0) return null;
  return (
    <span class="badge suppressed" title="Matches with this run's suppression key that started no run">
      +{props.count} suppressed
    </span>
  );
}

/** One event of a list on the run page: its short id, linked, and a time; `children` follow. */
function EventItem(props: { uuid: string; at: string; children?: unknown }) {
  return (
    <li>
      <a class="code" href={link`/events/${props.uuid}`}>
        {shortId(props.uuid)}
      </a>{" "}
      · <Time iso={props.at} />
      {props.children}
    </li>
  );
}

/** The window a threshold trigger counted for this run: the key, how many, and the events. */
function Counted(props: { counted: CountedEvents }) {
  const { key, by, distinct, n, withinSeconds, events } = props.counted;
  return (
    <section class="counted">
      <p>
        Started by a count: <strong>{n}</strong> {distinct ? `distinct ${distinct} values` : "events"} with {by}{" "}
        <code>{key}</code> within {formatDuration(withinSeconds * 1000)}.
      </p>
      <details>
        <summary>The events counted</summary>
        <ul>
          {events.map((event) => (
            <EventItem uuid={event.uuid} at={event.eventDate}>
              {event.value !== null && (
                <>
                  {" "}
                  · <code>{event.value}</code>
                </>
              )}
            </EventItem>
          ))}
        </ul>
      </details>
    </section>
  );
}

/** What this run's suppression window held back: the count, the window while it holds it, the events. */
function Suppressed(props: {
  suppressed: RunSuppression;
  definition: WorkflowDefinition | null;
  /** A failed run's window is over: the next match starts a run (db/suppressions.ts). */
  failed: boolean;
  now: Date;
}) {
  const { count, events, window } = props.suppressed;
  if (!props.definition?.suppress && count === 0 && !window) return null;
  return (
    <section class="suppressed">
      <h2>Suppressed matches</h2>
      <p>
        <strong>{count}</strong> {count === 1 ? "match was" : "matches were"} suppressed by this run's window
        {props.failed
          ? "; the window ended when this run failed"
          : window && (
              <>
                {" "}
                (key <code>{window.key}</code>
                {window.source ? ` in ${window.source}` : ""}, {new Date(window.until) > props.now ? "until" : "ended"}{" "}
                <Time iso={window.until} />)
              </>
            )}
        .
      </p>
      {events.length > 0 && (
        <details>
          <summary>{count > events.length ? `The first ${events.length} of ${count}` : "The events"}</summary>
          <ul>
            {events.map((event) => (
              <EventItem uuid={event.eventUuid} at={event.suppressedAt} />
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

/** Which event's cancel-on rule ended the run; the event may have been deleted by retention since. */
function CancelledBy(props: { uuid: string; event: Awaited<ReturnType<typeof getEvent>> }) {
  const { uuid, event } = props;
  return (
    <p class="card cancelled">
      Cancelled by{" "}
      <a href={link`/events/${uuid}`}>
        {event ? <EventType eventType={event.eventType} /> : <span class="code">{uuid}</span>}
      </a>
      {event && (
        <>
          {" "}
          on {event.assetDisplayName ?? event.assetId} · <Time iso={event.eventDate} />
        </>
      )}
      , the workflow's cancel-on rule.
    </p>
  );
}
