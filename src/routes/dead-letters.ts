/**
 * `/api/dead-letters`: the messages the events queue gave up on. List, show, re-drive
 * (send the original body back to the events queue: the consumer is idempotent, so a
 * body that was in fact handled changes nothing) and discard.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createDb } from "../db/client";
import { discardDeadLetter, getDeadLetter, listDeadLetters, markRedriven } from "../db/dead-letters";
import { unabandonEvent } from "../db/events";
import type { DeadLetterRow } from "../db/schema";
import { AppError } from "../errors";
import { logInfo } from "../log";
import { QueueMessage } from "../queue/messages";
import { describeIssue } from "../validation";
import { decodeCursor, pageOf } from "./cursor";
import { bearerSecurity, createApiApp, ErrorBody, errorResponses, noBody, notFoundResponse } from "./openapi-common";

const DeadLetter = z
  .object({
    id: z.string(),
    reason: z.string(),
    messageId: z.string().nullable().openapi({ description: "The original message's ID, when the consumer sent it" }),
    attempts: z.number().int().nullable(),
    receivedAt: z.string(),
    redrivenAt: z.string().nullable(),
  })
  .openapi("DeadLetter");

const DeadLetterDetail = DeadLetter.extend({
  body: z.unknown().openapi({ description: "The original message body" }),
}).openapi("DeadLetterDetail");

function summary({ body: _body, ...row }: DeadLetterRow) {
  return row;
}

const CursorPosition = z.object({ receivedAt: z.string(), id: z.string() });
const IdParam = z.object({ id: z.string().min(1) });
const conflict = {
  409: { description: "Cannot be re-driven", content: { "application/json": { schema: ErrorBody } } },
};

const listRoute = createRoute({
  method: "get",
  path: "/dead-letters",
  summary: "List dead letters, newest first",
  security: bearerSecurity,
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: "A page of dead letters",
      content: {
        "application/json": {
          schema: z.object({ deadLetters: z.array(DeadLetter), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...errorResponses,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/dead-letters/{id}",
  summary: "One dead letter with its original body",
  security: bearerSecurity,
  request: { params: IdParam },
  responses: {
    200: { description: "The dead letter", content: { "application/json": { schema: DeadLetterDetail } } },
    ...errorResponses,
    ...notFoundResponse,
  },
});

const redriveRoute = createRoute({
  method: "post",
  path: "/dead-letters/{id}/redrive",
  summary: "Send the original body back to the events queue",
  security: bearerSecurity,
  middleware: [noBody] as const,
  request: { params: IdParam },
  responses: {
    200: {
      description: "Sent; the letter is kept, marked re-driven",
      content: { "application/json": { schema: DeadLetter } },
    },
    ...errorResponses,
    ...notFoundResponse,
    ...conflict,
  },
});

const discardRoute = createRoute({
  method: "delete",
  path: "/dead-letters/{id}",
  summary: "Discard a dead letter",
  security: bearerSecurity,
  middleware: [noBody] as const,
  request: { params: IdParam },
  responses: { 204: { description: "Discarded" }, ...errorResponses, ...notFoundResponse },
});

/** Re-drives a letter: validates its body as a queue message first, so a letter that can never work is refused, not looped. */
export async function redrive(env: Env, id: string, now: Date): Promise<DeadLetterRow> {
  const db = createDb(env.DB);
  const letter = await getDeadLetter(db, id);
  if (!letter) throw new AppError(404, "not_found", `no dead letter ${id}`);
  const parsed = QueueMessage.safeParse(letter.body);
  if (!parsed.success) {
    throw new AppError(
      409,
      "conflict",
      `this letter's body is not a message the consumer can use (${describeIssue(parsed.error)}); discard it`,
    );
  }
  await env.EVENTS.send(parsed.data, { contentType: "json" });
  // An event the cron gave up on is watched again: if this message is lost too, the cron re-sends it.
  if (parsed.data.kind === "event" || parsed.data.kind === "event-ref") await unabandonEvent(db, parsed.data.uuid);
  await markRedriven(db, id, now);
  logInfo("dead letter re-driven", { letterId: id, kind: parsed.data.kind });
  return { ...letter, redrivenAt: now.toISOString() };
}

/** Discards a letter; 404 if there is none. */
export async function discard(env: Env, id: string): Promise<void> {
  if (!(await discardDeadLetter(createDb(env.DB), id))) throw new AppError(404, "not_found", `no dead letter ${id}`);
  logInfo("dead letter discarded", { letterId: id });
}

export const deadLettersApi = createApiApp()
  .openapi(listRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const position = cursor ? decodeCursor(cursor, CursorPosition) : undefined;
    const rows = await listDeadLetters(createDb(c.env.DB), { limit: limit + 1, position });
    const { page, nextCursor } = pageOf(rows, limit, (row) => ({ receivedAt: row.receivedAt, id: row.id }));
    return c.json({ deadLetters: page.map(summary), nextCursor }, 200);
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const letter = await getDeadLetter(createDb(c.env.DB), id);
    if (!letter) throw new AppError(404, "not_found", `no dead letter ${id}`);
    return c.json({ ...summary(letter), body: letter.body }, 200);
  })
  .openapi(redriveRoute, async (c) => c.json(summary(await redrive(c.env, c.req.valid("param").id, new Date())), 200))
  .openapi(discardRoute, async (c) => {
    await discard(c.env, c.req.valid("param").id);
    return c.body(null, 204);
  });
