/** `/`: the state of the service at a glance: events of the last 24 hours, runs by status, waits, failures, deliveries. */
import { Hono } from "hono";
import { createDb } from "../../db/client";
import { workflowNames } from "../../db/dashboard";
import { RUN_STATUSES } from "../../db/schema";
import { SYSTEM_CATEGORY_EVENT_TYPES } from "../../okta/event-types";
import { readOverview } from "../../routes/overview";
import type { DashboardEnv } from "../auth";
import { RunList, StatusBadge, Time } from "../components";
import { durationBetween, relativeTime } from "../format";
import { Layout } from "../layout";
import { link } from "../link";

function EventsChart(props: { counts: ReadonlyArray<{ eventType: string; count: number }> }) {
  const byType = new Map(props.counts.map((row) => [row.eventType, row.count]));
  const other = props.counts
    .filter((row) => !SYSTEM_CATEGORY_EVENT_TYPES.some((t) => t.eventType === row.eventType))
    .reduce((sum, row) => sum + row.count, 0);
  const rows = [
    ...SYSTEM_CATEGORY_EVENT_TYPES.map((t) => ({
      label: t.displayName,
      type: t.eventType,
      count: byType.get(t.eventType) ?? 0,
    })),
    ...(other > 0 ? [{ label: "Outside the category", type: "", count: other }] : []),
  ];
  const most = Math.max(1, ...rows.map((row) => row.count));
  const barWidth = 260;
  return (
    <table class="chart">
      <caption class="sr-only">Events of the last 24 hours by type</caption>
      <tbody>
        {rows.map((row) => (
          <tr>
            <th scope="row">{row.type ? <a href={link`/events?eventType=${row.type}`}>{row.label}</a> : row.label}</th>
            <td>
              <svg width={barWidth} height="14" aria-hidden="true">
                <rect class="bar-track" width={barWidth} height="14" rx="2" />
                {row.count > 0 && (
                  <rect class="bar" width={Math.max(3, (row.count / most) * barWidth)} height="14" rx="2" />
                )}
              </svg>
            </td>
            <td class="num">{row.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export const overviewPage = new Hono<DashboardEnv>().get("/", async (c) => {
  const now = new Date();
  const db = createDb(c.env.DB);
  const data = await readOverview(db, now);
  const names = await workflowNames(db, [...new Set(data.failed.map((run) => run.workflowId))]);
  const byStatus = new Map(data.runsByStatus.map((row) => [row.status, row.count]));
  const totalEvents = data.eventsByType.reduce((sum, row) => sum + row.count, 0);
  return c.html(
    <Layout title="Overview" section="overview">
      <div class="cards">
        <section class="card">
          <h2>Runs waiting now</h2>
          <p class="big">
            <a href="/runs?status=waiting">{data.waiting.count}</a>
          </p>
          <p class="muted">
            {data.waiting.soonest ? (
              <>
                soonest deadline <Time iso={data.waiting.soonest} /> ({relativeTime(data.waiting.soonest, now)})
              </>
            ) : (
              "no deadline pending"
            )}
          </p>
        </section>
        <section class="card">
          <h2>Last delivery from Okta</h2>
          <p class="big">{data.lastDeliveryAt ? relativeTime(data.lastDeliveryAt, now) : "never"}</p>
          <p class="muted">{data.lastDeliveryAt && <Time iso={data.lastDeliveryAt} />}</p>
        </section>
        <section class={data.stranded > 0 ? "card warn" : "card"}>
          <h2>Stranded events</h2>
          <p class="big">{data.stranded}</p>
          <p class="muted">
            {data.stranded > 0
              ? "stored but not handled after 5 min; the cron re-sends them"
              : "every event was handled"}
          </p>
        </section>
      </div>
      <div class="columns">
        <section>
          <h2>Events, last 24 hours ({totalEvents})</h2>
          <EventsChart counts={data.eventsByType} />
        </section>
        <section>
          <h2>Runs by status</h2>
          <table class="compact">
            <tbody>
              {RUN_STATUSES.map((status) => (
                <tr>
                  <th scope="row">
                    <a href={link`/runs?status=${status}`}>
                      <StatusBadge status={status} />
                    </a>
                  </th>
                  <td class="num">{byStatus.get(status) ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Recent failed runs</h2>
          <RunList
            rows={data.failed.map((run) => ({ run, note: `took ${durationBetween(run.startedAt, run.endedAt, now)}` }))}
            names={names}
            empty="No failed runs."
          />
        </section>
      </div>
    </Layout>,
  );
});
