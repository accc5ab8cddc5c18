/**
 * `/dead-letters`: the messages the events queue gave up on, newest first; one letter
 * with its reason and original body; re-drive and discard, through the admin API.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { createDb } from "../../db/client";
import { getDeadLetter, listDeadLetters } from "../../db/dead-letters";
import { AppError } from "../../errors";
import { decodeCursor, pageOf } from "../../routes/cursor";
import { apiErrorMessage, callApi } from "../api-client";
import type { DashboardEnv } from "../auth";
import { Empty, JsonViewer, Pager, Time } from "../components";
import { shortId } from "../format";
import { Layout } from "../layout";
import { link } from "../link";
import { readQuery } from "../query";

const PAGE_SIZE = 50;
const CursorPosition = z.object({ receivedAt: z.string(), id: z.string() });

export const deadLettersPages = new Hono<DashboardEnv>()
  .get("/dead-letters", async (c) => {
    const { cursor } = readQuery(c, z.object({ cursor: z.string().optional() }));
    const position = cursor ? decodeCursor(cursor, CursorPosition) : undefined;
    const rows = await listDeadLetters(createDb(c.env.DB), { limit: PAGE_SIZE + 1, position });
    const { page, nextCursor } = pageOf(rows, PAGE_SIZE, (row) => ({ receivedAt: row.receivedAt, id: row.id }));
    return c.html(
      <Layout title="Dead letters" section="dead-letters">
        <p>
          Messages the queue consumer could not use, or failed on at every attempt. Re-driving one sends its original
          body back to the events queue (handling a message twice changes nothing); discarding deletes it.
        </p>
        {page.length === 0 ? (
          <Empty>No dead letters.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Letter</th>
                <th scope="col">Received</th>
                <th scope="col">Reason</th>
                <th scope="col">Attempts</th>
                <th scope="col">Re-driven</th>
              </tr>
            </thead>
            <tbody>
              {page.map((row) => (
                <tr>
                  <td class="code">
                    <a href={link`/dead-letters/${row.id}`}>{shortId(row.id)}</a>
                  </td>
                  <td>
                    <Time iso={row.receivedAt} />
                  </td>
                  <td>{row.reason}</td>
                  <td class="num">{row.attempts ?? "–"}</td>
                  <td>{row.redrivenAt ? <Time iso={row.redrivenAt} /> : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager path="/dead-letters" query={{}} nextCursor={nextCursor} />
      </Layout>,
    );
  })
  .get("/dead-letters/:id", (c) => letterPage(c, c.req.param("id")))
  .post("/dead-letters/:id/redrive", async (c) => {
    const id = c.req.param("id");
    const answer = await callApi(c, "POST", link`/dead-letters/${id}/redrive`);
    if (answer.status === 404) throw new AppError(404, "not_found", "no dead letter with that id");
    if (answer.status !== 200) return letterPage(c, id, apiErrorMessage(answer), 409);
    return c.redirect(link`/dead-letters/${id}`, 303);
  })
  .post("/dead-letters/:id/discard", async (c) => {
    const id = c.req.param("id");
    const answer = await callApi(c, "DELETE", link`/dead-letters/${id}`);
    if (answer.status === 404) throw new AppError(404, "not_found", "no dead letter with that id");
    if (answer.status !== 204) return letterPage(c, id, apiErrorMessage(answer), 409);
    return c.redirect("/dead-letters", 303);
  });

/** One letter; `error` (a refused re-drive) is shown above it. */
async function letterPage(c: Context<DashboardEnv>, id: string, error?: string, status: 200 | 409 = 200) {
  const letter = await getDeadLetter(createDb(c.env.DB), id);
  if (!letter) throw new AppError(404, "not_found", "no dead letter with that id");
  const path = link`/dead-letters/${letter.id}`;
  return c.html(
    <Layout title={`Dead letter ${shortId(letter.id)}`} section="dead-letters">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="fields">
        <tbody>
          <tr>
            <th scope="row">Reason</th>
            <td>{letter.reason}</td>
          </tr>
          <tr>
            <th scope="row">Received</th>
            <td>
              <Time iso={letter.receivedAt} />
            </td>
          </tr>
          <tr>
            <th scope="row">Original message</th>
            <td>
              <span class="code">{letter.messageId ?? "–"}</span>
            </td>
          </tr>
          <tr>
            <th scope="row">Attempts</th>
            <td>{letter.attempts ?? "–"}</td>
          </tr>
          <tr>
            <th scope="row">Re-driven</th>
            <td>{letter.redrivenAt ? <Time iso={letter.redrivenAt} /> : "no"}</td>
          </tr>
        </tbody>
      </table>
      <div class="actions">
        <form method="post" action={`${path}/redrive`} data-confirm="Send this message back to the events queue?">
          <button type="submit">Re-drive</button>
        </form>
        <form method="post" action={`${path}/discard`} data-confirm="Discard this dead letter? It is deleted.">
          <button type="submit" class="danger">
            Discard
          </button>
        </form>
      </div>
      <h2>Original body</h2>
      <JsonViewer value={letter.body} />
    </Layout>,
    status,
  );
}
