/**
 * `/assets/:id`: one Okta system (asset): the runs paused on it (asked of its
 * WaitRoom), its events of the buffer window, and its recent runs.
 */
import { Hono } from "hono";
import { z } from "zod";
import { createDb } from "../../db/client";
import { waitedAssets, workflowNames } from "../../db/dashboard";
import { eventSummary } from "../../db/event-rows";
import { listEvents } from "../../db/events";
import { listRuns } from "../../db/runs";
import { BUFFER_WINDOW_MS } from "../../durable/wait-room";
import { waitRoomFor } from "../../durable/wait-rooms";
import type { DashboardEnv } from "../auth";
import { Empty, EventType, RunList, Time } from "../components";
import { describeTypes } from "../diagram/describe";
import { relativeTime, shortId } from "../format";
import { Layout } from "../layout";
import { link } from "../link";
import { Filter, readQuery } from "../query";

export const assetsPages = new Hono<DashboardEnv>()
  .get("/assets", async (c) => {
    const { id } = readQuery(c, z.object({ id: Filter }));
    if (id) return c.redirect(link`/assets/${id}`, 303);
    const waited = await waitedAssets(createDb(c.env.DB), 100);
    const now = new Date();
    return c.html(
      <Layout title="Assets" section="assets">
        <p>An asset is the Okta system an event is about (its Event Field ID): an app, a token, an authenticator.</p>
        <form method="get" action="/assets" class="filters">
          <label>
            Asset ID
            <input name="id" required size={30} />
          </label>
          <button type="submit">Open</button>
        </form>
        <h2>Assets runs wait on now</h2>
        {waited.length === 0 ? (
          <Empty>No run is waiting.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Asset ID</th>
                <th scope="col">Runs waiting</th>
                <th scope="col">Soonest deadline</th>
              </tr>
            </thead>
            <tbody>
              {waited.map((row) => (
                <tr>
                  <td class="code">
                    <a href={link`/assets/${row.assetId}`}>{row.assetId}</a>
                  </td>
                  <td class="num">{row.waiting}</td>
                  <td>
                    {row.soonest ? (
                      <>
                        <Time iso={row.soonest} /> ({relativeTime(row.soonest, now)})
                      </>
                    ) : (
                      "none"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>,
    );
  })
  .get("/assets/:id", async (c) => {
    const assetId = c.req.param("id");
    const db = createDb(c.env.DB);
    const now = new Date();
    const [events, runs] = await Promise.all([
      listEvents(db, { assetId, since: new Date(now.getTime() - BUFFER_WINDOW_MS).toISOString(), limit: 100 }),
      listRuns(db, { assetId, limit: 20 }),
    ]);
    // A WaitRoom per (source, asset): ask the rooms of every org this asset was seen in.
    const asked = c.req.query("source");
    const sources = asked
      ? [asked]
      : [...new Set([...events.map((e) => e.source ?? null), ...runs.map((r) => r.trigger?.source ?? null), null])];
    const paused = (await Promise.all(sources.map((source) => waitRoomFor(c.env, source, assetId).paused()))).flat();
    const names = await workflowNames(db, [...new Set([...paused, ...runs].map((r) => r.workflowId))]);
    const latest = events[0] ?? (await listEvents(db, { assetId, limit: 1 }))[0];
    return c.html(
      <Layout title={latest?.assetDisplayName ?? assetId} section="assets">
        <p class="subtitle">
          <span class="code">{assetId}</span>
          {latest?.assetType && ` · ${latest.assetType}`}
          {latest?.assetAlternateId && ` · ${latest.assetAlternateId}`} ·{" "}
          <a href={link`/events?id=${assetId}`}>all its events</a>
        </p>
        <section>
          <h2>Runs paused on this asset</h2>
          {paused.length === 0 ? (
            <Empty>No run waits on this asset.</Empty>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Workflow</th>
                  <th scope="col">At node</th>
                  <th scope="col">Waits for</th>
                  <th scope="col">Deadline</th>
                </tr>
              </thead>
              <tbody>
                {paused.map((p) => (
                  <tr>
                    <td class="code">
                      <a href={link`/runs/${p.runId}`}>{shortId(p.runId)}</a>
                    </td>
                    <td>{names.get(p.workflowId) ?? p.workflowId}</td>
                    <td class="code">{p.nodeId}</td>
                    <td>{describeTypes(p.eventTypes)}</td>
                    <td>
                      {p.deadline ? (
                        <>
                          <Time iso={p.deadline} /> ({relativeTime(p.deadline, now)})
                        </>
                      ) : (
                        "none"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <div class="columns">
          <section>
            <h2>Events of the last hour</h2>
            <p class="muted">The window the asset's WaitRoom buffers for runs that start waiting late.</p>
            {events.length === 0 ? (
              <Empty>None in the last hour.</Empty>
            ) : (
              <table class="compact">
                <tbody>
                  {events.map(eventSummary).map((e) => (
                    <tr>
                      <td>
                        <a href={link`/events/${e.uuid}`}>
                          <Time iso={e.eventDate} />
                        </a>
                      </td>
                      <td>
                        <EventType eventType={e.eventType} />
                      </td>
                      <td>{e.eventResult}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section>
            <h2>Recent runs on this asset</h2>
            <RunList rows={runs.map((run) => ({ run }))} names={names} empty="None." />
          </section>
        </div>
      </Layout>,
    );
  });
