/** `/events`: the stored events with their Event Fields, filtered; `/events/:uuid`: one event and its runs. */
import { Hono } from "hono";
import { z } from "zod";
import { createDb } from "../../db/client";
import { runsOfEvent, workflowNames } from "../../db/dashboard";
import { eventSummary, fieldsOf } from "../../db/event-rows";
import { getEvent, listEvents } from "../../db/events";
import { suppressedBy } from "../../db/suppressions";
import { AppError } from "../../errors";
import { EVENT_FIELDS, SYSTEM_CATEGORY_EVENT_TYPES } from "../../okta/event-types";
import { decodeCursor, pageOf } from "../../routes/cursor";
import type { DashboardEnv } from "../auth";
import { EventType, JsonViewer, Pager, RunList, Time } from "../components";
import { FilterButtons, SelectFilter, TextFilter, TimeRange } from "../filters";
import { formatTime, fromLocalInput } from "../format";
import { Layout } from "../layout";
import { link } from "../link";
import { Filter, readQuery } from "../query";

const PAGE_SIZE = 50;
const RESULTS = ["SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE", "UNKNOWN"];
const EventsQuery = z.object({
  eventType: Filter,
  id: Filter,
  result: Filter,
  source: Filter,
  since: Filter,
  until: Filter,
  cursor: Filter,
});
const CursorPosition = z.object({ eventDate: z.string(), uuid: z.string() });

type Row = ReturnType<typeof eventSummary>;

/** The Event Fields as the list shows them: when and what first, then the asset, then delivery. */
const LIST_COLUMNS = [
  "eventDate",
  "eventType",
  "displayName",
  "id",
  "type",
  "alternateId",
  "eventResult",
  "eventTimestamp",
];

function EventRows(props: { rows: Row[] }) {
  return (
    <>
      {props.rows.map((event) => (
        <tr data-key={event.uuid}>
          <td>
            <a href={link`/events/${event.uuid}`}>{formatTime(event.eventDate)}</a>
          </td>
          <td>
            <EventType eventType={event.eventType} />
          </td>
          <td>{event.displayName}</td>
          <td class="code">{event.id && <a href={link`/assets/${event.id}`}>{event.id}</a>}</td>
          <td>{event.type}</td>
          <td>{event.alternateId}</td>
          <td>{event.eventResult}</td>
          <td class="muted">{formatTime(event.eventTimestamp)}</td>
        </tr>
      ))}
    </>
  );
}

export const eventsPages = new Hono<DashboardEnv>()
  .get("/events", async (c) => {
    const query = readQuery(c, EventsQuery);
    const rows = await listEvents(createDb(c.env.DB), {
      eventType: query.eventType,
      assetId: query.id,
      eventResult: query.result,
      source: query.source,
      since: fromLocalInput(query.since),
      until: fromLocalInput(query.until),
      after: query.cursor ? decodeCursor(query.cursor, CursorPosition) : undefined,
      limit: PAGE_SIZE + 1,
    });
    const { page, nextCursor } = pageOf(rows, PAGE_SIZE, (row) => ({ eventDate: row.eventDate, uuid: row.uuid }));
    const events = page.map(eventSummary);
    return c.html(
      <Layout title="Events" section="events">
        <form method="get" action="/events" class="filters" aria-label="Filter events">
          <SelectFilter
            label="Event Type"
            name="eventType"
            options={SYSTEM_CATEGORY_EVENT_TYPES.map((t) => [t.eventType, t.displayName] as const)}
            selected={query.eventType}
          />
          <TextFilter label="Asset ID" name="id" value={query.id} />
          <SelectFilter
            label="Event Result"
            name="result"
            options={RESULTS.map((r) => [r, r] as const)}
            selected={query.result}
          />
          <TextFilter label="Source" name="source" value={query.source} />
          <TimeRange since={query.since} until={query.until} />
          <FilterButtons clear="/events" />
        </form>
        <table class="list">
          <thead>
            <tr>
              {LIST_COLUMNS.map((key) => (
                <th scope="col">{EVENT_FIELDS.find((f) => f.key === key)?.name}</th>
              ))}
            </tr>
          </thead>
          {/* On the first page, dashboard.js refreshes these rows so new events appear without a reload. */}
          <tbody id="live-rows" data-live={query.cursor ? undefined : "5000"}>
            {events.length === 0 ? (
              <tr>
                <td colspan={LIST_COLUMNS.length} class="muted">
                  No events match yet. Send one with <code>npm run okta -- send system.api_token.create</code>.
                </td>
              </tr>
            ) : (
              <EventRows rows={events} />
            )}
          </tbody>
        </table>
        <Pager path="/events" query={query} nextCursor={nextCursor} />
      </Layout>,
    );
  })
  .get("/events/:uuid", async (c) => {
    const db = createDb(c.env.DB);
    const uuid = c.req.param("uuid");
    const row = await getEvent(db, uuid);
    if (!row) throw new AppError(404, "not_found", "no event with that uuid");
    const event = eventSummary(row);
    const [{ started, resumed, cancelled }, suppressed] = await Promise.all([
      runsOfEvent(db, uuid),
      suppressedBy(db, uuid),
    ]);
    const runs = [
      ...started.map((run) => ({ run, note: "started" })),
      ...resumed.map(({ run, nodeId }) => ({ run, note: `resumed at ${nodeId}` })),
      ...cancelled.map((run) => ({ run, note: "cancelled (cancel-on)" })),
    ];
    const countedOn = suppressed.map(({ run }) => ({ run, note: "suppressed: counted on this run" }));
    const names = await workflowNames(db, [...new Set([...runs, ...countedOn].map(({ run }) => run.workflowId))]);
    const fields = fieldsOf(row);
    return c.html(
      <Layout title={event.displayName ?? event.eventType} section="events">
        <p class="subtitle">
          <EventType eventType={event.eventType} /> · <Time iso={event.eventDate} />
          {!event.inCategory && <span class="badge status-other">outside the System Category</span>}
        </p>
        <div class="columns">
          <section>
            <h2>Event Fields</h2>
            <table class="fields">
              <tbody>
                {EVENT_FIELDS.map((field) => (
                  <tr>
                    <th scope="row">
                      {field.name} <span class="code muted">{field.key}</span>
                    </th>
                    <td>
                      {field.key === "id" && event.id ? (
                        <a href={link`/assets/${event.id}`}>{event.id}</a>
                      ) : (
                        (fields[field.key] ?? <span class="muted">null</span>)
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Also kept</h2>
            <table class="fields">
              <tbody>
                <tr>
                  <th scope="row">Actor</th>
                  <td>
                    {event.actor
                      ? `${event.actor.displayName ?? ""} (${event.actor.alternateId ?? event.actor.id ?? "?"}, ${event.actor.type ?? "?"})`
                      : "none"}
                  </td>
                </tr>
                <tr>
                  <th scope="row">Display message</th>
                  <td>{event.displayMessage}</td>
                </tr>
                <tr>
                  <th scope="row">Outcome reason</th>
                  <td>{event.outcomeReason}</td>
                </tr>
                <tr>
                  <th scope="row">Event uuid</th>
                  <td class="code">{event.uuid}</td>
                </tr>
                <tr>
                  <th scope="row">Delivery</th>
                  <td class="code">{event.deliveryId}</td>
                </tr>
                <tr>
                  <th scope="row">Handled by the consumer</th>
                  <td>{event.consumedAt ? <Time iso={event.consumedAt} /> : "not yet"}</td>
                </tr>
              </tbody>
            </table>
          </section>
          <section>
            <h2>Runs it started, resumed or cancelled</h2>
            <RunList rows={runs} names={names} empty="None." />
            {countedOn.length > 0 && (
              <>
                <h2>Suppressed</h2>
                <p class="muted">
                  These workflows matched the event inside a suppression window, so it started no run of theirs.
                </p>
                <RunList rows={countedOn} names={names} empty="None." />
              </>
            )}
            <h2>Raw Okta event</h2>
            <JsonViewer value={row.raw} />
          </section>
        </div>
      </Layout>,
    );
  });
