/**
 * Dead letters: the dead-letter queue's consumer records each letter in D1, and the
 * API lists, shows, re-drives and discards them. The first test goes the whole way
 * through the real queues: a message the consumer cannot use ends up in the list.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RETRIES_EXHAUSTED } from "../src/dead-letters";
import worker from "../src/index";
import { getPage, html, postForm, signIn } from "./dashboard-support";
import { expectLogged } from "./expected-logs";
import { downD1 } from "./fault-support";
import { api, apiJson, consumed, storeWithoutEnqueue, until } from "./workflow-support";

interface Letter {
  id: string;
  reason: string;
  messageId: string | null;
  attempts: number | null;
  receivedAt: string;
  redrivenAt: string | null;
  body?: unknown;
}

/** Delivers letters to the Worker's queue handler as the dead-letter queue would. */
async function deliverLetters(
  letters: Array<{ id: string; body: unknown; attempts?: number }>,
  overrides: Partial<Env> = {},
) {
  const batch = createMessageBatch(
    "okta-events-dlq",
    letters.map(({ id, body, attempts }) => ({ id, body, timestamp: new Date(), attempts: attempts ?? 1 })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

const letter = (id: string) => apiJson<Letter>("GET", `/api/dead-letters/${id}`);

it("a message the consumer cannot use reaches the list, with its reason and body", async () => {
  expectLogged("warn", "message dead-lettered");
  const marker = crypto.randomUUID();
  await env.EVENTS.send({ kind: "event", uuid: marker }, { contentType: "json" });
  const found = await until(async () => {
    const { deadLetters } = await apiJson<{ deadLetters: Letter[] }>("GET", "/api/dead-letters?limit=200");
    for (const summary of deadLetters) {
      const detail = await letter(summary.id);
      if ((detail.body as { uuid?: string } | null)?.uuid === marker) return detail;
    }
    return null;
  }, "the dead letter to be recorded");
  expect(found.reason).toMatch(/^invalid message: /);
  expect(found.messageId).toEqual(expect.any(String));
  expect(found.attempts).toBe(1);
  expect(found.redrivenAt).toBeNull();
  expect(found.body).toEqual({ kind: "event", uuid: marker });
});

describe("the dead-letter consumer", () => {
  it("records a message the queue moved after its last retry as such, and acks it", async () => {
    const id = `exhausted-${crypto.randomUUID()}`;
    const body = { kind: "run", runId: "run-that-kept-failing" };
    const result = await deliverLetters([{ id, body, attempts: 1 }]);
    expect(result.ackAll).toBe(true);
    const recorded = await letter(id);
    expect(recorded).toMatchObject({ id, reason: RETRIES_EXHAUSTED, messageId: null, attempts: null, body });
  });

  it("records a letter delivered twice once", async () => {
    const id = `twice-${crypto.randomUUID()}`;
    const body = { reason: "invalid message: kind", body: { kind: "nope" }, messageId: "m-1", attempts: 3 };
    await deliverLetters([{ id, body }]);
    await deliverLetters([{ id, body, attempts: 2 }]);
    const row = await env.DB.prepare("select count(*) as n from dead_letters where id = ?")
      .bind(id)
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
    expect(await letter(id)).toMatchObject({ reason: "invalid message: kind", messageId: "m-1", attempts: 3 });
  });

  it("retries every letter of the batch when D1 cannot record them", async () => {
    const failed = expectLogged("error", "dead letters not recorded; retrying");
    const result = await deliverLetters(
      [
        { id: `d1-down-a-${crypto.randomUUID()}`, body: {} },
        { id: `d1-down-b-${crypto.randomUUID()}`, body: {} },
      ],
      { DB: downD1() },
    );
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(2);
    expect(failed).toHaveLength(1);
  });
});

describe("the API", () => {
  it("re-drives a letter: the original body goes back to the events queue and is handled", async () => {
    const message = await storeWithoutEnqueue({ eventType: "system.api_token.create" });
    const id = `redrive-${crypto.randomUUID()}`;
    await deliverLetters([{ id, body: message }]);

    const res = await api("POST", `/api/dead-letters/${id}/redrive`);
    expect(res.status).toBe(200);
    const redriven: Letter = await res.json();
    expect(redriven.redrivenAt).toEqual(expect.any(String));
    await consumed(message.uuid);
    expect((await letter(id)).redrivenAt).toBe(redriven.redrivenAt);
  });

  it("refuses to re-drive a body the consumer can never use, and sends nothing", async () => {
    const id = `unusable-${crypto.randomUUID()}`;
    await deliverLetters([
      { id, body: { reason: "invalid message", body: "not a message", messageId: "m", attempts: 1 } },
    ]);
    const res = await api("POST", `/api/dead-letters/${id}/redrive`);
    expect(res.status).toBe(409);
    const { error } = await res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/discard it/);
    expect((await letter(id)).redrivenAt).toBeNull();
  });

  it("discards a letter; it is gone afterwards", async () => {
    const id = `discard-${crypto.randomUUID()}`;
    await deliverLetters([{ id, body: { kind: "run", runId: "x" } }]);
    expect((await api("DELETE", `/api/dead-letters/${id}`)).status).toBe(204);
    expect((await api("GET", `/api/dead-letters/${id}`)).status).toBe(404);
    expect((await api("DELETE", `/api/dead-letters/${id}`)).status).toBe(404);
    expect((await api("POST", `/api/dead-letters/${id}/redrive`)).status).toBe(404);
  });

  it("lists newest first, a page at a time", async () => {
    const ids = [1, 2, 3].map((n) => `page-${n}-${crypto.randomUUID()}`);
    for (const id of ids) {
      await deliverLetters([{ id, body: { kind: "run", runId: id } }]);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const first = await apiJson<{ deadLetters: Letter[]; nextCursor: string | null }>(
      "GET",
      "/api/dead-letters?limit=2",
    );
    expect(first.deadLetters.map((l) => l.id)).toEqual([ids[2], ids[1]]);
    expect(first.deadLetters[0]).not.toHaveProperty("body");
    const second = await apiJson<{ deadLetters: Letter[] }>(
      "GET",
      `/api/dead-letters?limit=1&cursor=${first.nextCursor ?? ""}`,
    );
    expect(second.deadLetters.map((l) => l.id)).toEqual([ids[0]]);
  });

  it("needs the admin token", async () => {
    const res = await api("GET", "/api/dead-letters", undefined, null);
    expect(res.status).toBe(401);
  });
});

describe("the dashboard", () => {
  it("lists letters, shows one with its body, re-drives it and discards it", async () => {
    const cookie = await signIn();
    const message = await storeWithoutEnqueue({ eventType: "system.api_token.revoke" });
    const id = `page-${crypto.randomUUID()}`;
    await deliverLetters([{ id, body: message }]);

    expect(await html(getPage("/dead-letters", cookie))).toContain(`href="/dead-letters/${id}"`);
    const page = await html(getPage(`/dead-letters/${id}`, cookie));
    expect(page).toContain(RETRIES_EXHAUSTED);
    expect(page).toContain(message.uuid);

    const redriven = await postForm(`/dead-letters/${id}/redrive`, {}, cookie);
    expect(redriven.status).toBe(303);
    await consumed(message.uuid);
    expect((await letter(id)).redrivenAt).not.toBeNull();

    const discarded = await postForm(`/dead-letters/${id}/discard`, {}, cookie);
    expect(discarded.status).toBe(303);
    expect(discarded.headers.get("location")).toBe("/dead-letters");
    expect((await api("GET", `/api/dead-letters/${id}`)).status).toBe(404);
  });

  it("shows why a letter cannot be re-driven", async () => {
    const cookie = await signIn();
    const id = `page-bad-${crypto.randomUUID()}`;
    await deliverLetters([{ id, body: "not a message" }]);
    const page = await html(postForm(`/dead-letters/${id}/redrive`, {}, cookie), 409);
    expect(page).toContain("discard it");
  });

  it("needs a signed-in viewer", async () => {
    expect((await getPage("/dead-letters", null)).status).toBe(303);
    expect((await postForm("/dead-letters/x/discard", {}, null)).status).toBe(401);
  });
});
