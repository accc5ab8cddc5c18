/** `/catalogue`: the 13 Okta System Category event types and the Event Fields every event carries. */
import { Hono } from "hono";
import { EVENT_FIELDS, SYSTEM_CATEGORY_EVENT_TYPES } from "../../okta/event-types";
import type { DashboardEnv } from "../auth";
import { Layout } from "../layout";
import { link } from "../link";

export const cataloguePage = new Hono<DashboardEnv>().get("/catalogue", (c) =>
  c.html(
    <Layout title="Event catalogue" section="catalogue">
      <p>
        Workflows start on, and wait for, the events of the <strong>Okta System Category</strong>. Other event types are
        stored and shown, but never start or resume a run.
      </p>
      <div class="columns">
        <section>
          <h2>Event types</h2>
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Okta eventType</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {SYSTEM_CATEGORY_EVENT_TYPES.map((t) => (
                <tr>
                  <td>
                    <a href={link`/events?eventType=${t.eventType}`}>{t.displayName}</a>
                  </td>
                  <td class="code">{t.eventType}</td>
                  <td>{t.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Event Fields</h2>
          <p class="muted">Filters, conditions and templates name these by their key.</p>
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Key</th>
                <th scope="col">Type</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {EVENT_FIELDS.map((f) => (
                <tr>
                  <td>{f.name}</td>
                  <td class="code">{f.key}</td>
                  <td>{f.type}</td>
                  <td>{f.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
    </Layout>,
  ),
);
