/**
 * Several Okta orgs: each named source of OKTA_SOURCES (vitest.config.ts declares acme,
 * globex and initech) opens only with its own secrets, its events carry its name, and
 * the single-org `/hooks/okta` keeps working beside them. Then the `source` Event Field
 * in trigger filters and the `/api/events?source=` filter.
 */
import { afterAll, describe, expect, it } from "vitest";
import { oktaDelivery, oktaHeaders } from "../tools/local-okta/builders";
import { getPage, html, signIn } from "./dashboard-support";
import { expectLogged, infoLines } from "./expected-logs";
import { freshClientIp, HOOK_SECRET, send, sendWithEnv, storedEvent, tableCounts } from "./support";
import {
  apiJson,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  type ErrorBody,
  interceptOutbound,
  newAssetId,
  onAsset,
  runIdsFor,
  runOf,
  storeWithoutEnqueue,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

const ACME = { secret: "acme-hook-secret", previous: "acme-old-hook-secret" };
const GLOBEX = { secret: "globex-hook-secret", header: "X-Globex-Hook" };

function hookUrl(source: string | null): string {
  return source === null ? "http://worker.test/hooks/okta" : `http://worker.test/hooks/okta/${source}`;
}

/** An API token event, on a fresh asset unless one is given. */
function tokenEvent(assetId = newAssetId()) {
  return buildEvent({ eventType: "system.api_token.create", assetId });
}

/** POSTs a one-event delivery to a hook path with the given headers; returns the response and the event. */
async function postTo(source: string | null, headers: Record<string, string>, event = tokenEvent()) {
  const body = JSON.stringify(oktaDelivery([event]));
  // Each from its own address: these refusals are about the secrets, not the failure limit.
  const response = await send(
    new Request(hookUrl(source), {
      method: "POST",
      headers: { "cf-connecting-ip": freshClientIp(), ...headers },
      body,
    }),
  );
  return { response, event };
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  const body = await response.json<ErrorBody>();
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  return body;
}

describe("named hook paths", () => {
  it("store each org's events with its source, and the single-org hook's with none", async () => {
    const acme = await postTo("acme", oktaHeaders(ACME.secret));
    const globex = await postTo("globex", oktaHeaders(GLOBEX.secret, GLOBEX.header));
    const single = await postTo(null, oktaHeaders(HOOK_SECRET));
    for (const posted of [acme, globex, single]) expect(posted.response.status).toBe(200);
    expect((await storedEvent(acme.event.uuid))?.source).toBe("acme");
    expect((await storedEvent(globex.event.uuid))?.source).toBe("globex");
    expect((await storedEvent(single.event.uuid))?.source).toBeNull();
  });

  it("log each delivery with its source, and a refusal without the path the caller chose", async () => {
    const lines = infoLines();
    const accepted = await postTo("acme", oktaHeaders(ACME.secret));
    await postTo("umbrella-corp", oktaHeaders(ACME.secret));
    await postTo(null, oktaHeaders(HOOK_SECRET));
    expect(accepted.response.status).toBe(200);
    const delivered = lines.filter((line) => line.msg === "delivery accepted");
    expect(delivered.map((line) => line.source)).toEqual(["acme", undefined]);
    const refused = lines.filter((line) => line.msg === "delivery refused");
    expect(refused).toEqual([{ msg: "delivery refused", status: 404, code: "not_found", ms: expect.any(Number) }]);
    expect(JSON.stringify(lines)).not.toContain("umbrella");
  });

  it("accept the previous secret of a source during its rotation", async () => {
    const { response, event } = await postTo("acme", oktaHeaders(ACME.previous));
    expect(response.status).toBe(200);
    expect((await storedEvent(event.uuid))?.source).toBe("acme");
  });

  it("open to no other org's secret, and refuse before anything is stored", async () => {
    const before = await tableCounts();
    const attempts: Array<[string | null, Record<string, string>]> = [
      ["acme", oktaHeaders(GLOBEX.secret)],
      ["acme", oktaHeaders(GLOBEX.secret, GLOBEX.header)],
      ["acme", oktaHeaders(HOOK_SECRET)],
      ["globex", oktaHeaders(ACME.secret, GLOBEX.header)],
      ["globex", oktaHeaders(ACME.previous, GLOBEX.header)],
      ["globex", oktaHeaders(HOOK_SECRET, GLOBEX.header)],
      // globex's own secret in the wrong header.
      ["globex", oktaHeaders(GLOBEX.secret)],
      [null, oktaHeaders(ACME.secret)],
      [null, oktaHeaders(GLOBEX.secret)],
    ];
    const messages = new Set<string>();
    for (const [source, headers] of attempts) {
      const { response } = await postTo(source, headers);
      messages.add((await expectError(response, 401, "unauthorized")).error.message);
    }
    // Missing and wrong alike: the answer never says which secret was expected.
    expect([...messages]).toEqual(["missing or invalid hook secret"]);
    expect(await tableCounts()).toEqual(before);
  });

  it("answer Okta's verification challenge with the source's own secret only", async () => {
    const challenge = (headers: Record<string, string>) =>
      send(
        new Request(hookUrl("globex"), {
          headers: { ...headers, "x-okta-verification-challenge": "a-challenge" },
        }),
      );
    const ok = await challenge({ [GLOBEX.header]: GLOBEX.secret });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ verification: "a-challenge" });
    await expectError(await challenge({ Authorization: HOOK_SECRET }), 401, "unauthorized");
  });

  it("answer 404 for a source that is not declared or not a valid name, whatever the method", async () => {
    const before = await tableCounts();
    for (const source of ["umbrella", "ACME", "acme.corp", "a".repeat(33)]) {
      const { response } = await postTo(source, oktaHeaders(ACME.secret));
      await expectError(response, 404, "not_found");
    }
    await expectError(await send(new Request(hookUrl("umbrella"), { method: "PUT" })), 404, "not_found");
    expect(await tableCounts()).toEqual(before);
  });

  it("refuse a source whose secret is not set, and log which name is missing", async () => {
    const logged = expectLogged("error", "hook source has no secret set");
    for (const headers of [oktaHeaders(""), { "content-type": "application/json" }]) {
      const { response } = await postTo("initech", headers);
      await expectError(response, 401, "unauthorized");
    }
    expect(logged).toContainEqual([
      "hook source has no secret set",
      { source: "initech", secret: "OKTA_HOOK_SECRET_INITECH" },
    ]);
  });

  it("refuse every named source when OKTA_SOURCES is malformed, saying why only in the log", async () => {
    const refused = "named hook sources refused: OKTA_SOURCES is invalid";
    const logged = expectLogged("error", refused);
    const malformed = [
      '{"acme": {"secret": "OKTA_HOOK_SECRET_ACME"',
      JSON.stringify({ acme: { secret: "acme-hook-secret-value!" } }),
      JSON.stringify({ acme: { secret: "ADMIN_TOKEN" } }),
      JSON.stringify({ Acme: { secret: "OKTA_HOOK_SECRET_ACME" } }),
      JSON.stringify({ acme: { secret: "OKTA_HOOK_SECRET_ACME", extra: true } }),
    ];
    for (const OKTA_SOURCES of malformed) {
      const request = new Request(hookUrl("acme"), {
        method: "POST",
        headers: oktaHeaders(ACME.secret),
        body: JSON.stringify(oktaDelivery([tokenEvent()])),
      });
      const response = await sendWithEnv(request, { OKTA_SOURCES });
      const body = await expectError(response, 503, "unavailable");
      expect(JSON.stringify(body)).not.toMatch(/OKTA_HOOK_SECRET|acme-hook-secret|ADMIN_TOKEN/);
    }
    expect(logged).toHaveLength(malformed.length);
    expect(logged).toContainEqual([refused, { reason: "OKTA_SOURCES is not valid JSON" }]);
    expect(logged).toContainEqual([
      refused,
      { reason: "OKTA_SOURCES.acme.secret: ADMIN_TOKEN cannot be a hook secret" },
    ]);
    // The single-org hook does not read OKTA_SOURCES.
    const single = new Request(hookUrl(null), {
      method: "POST",
      headers: oktaHeaders(HOOK_SECRET),
      body: JSON.stringify(oktaDelivery([tokenEvent()])),
    });
    expect((await sendWithEnv(single, { OKTA_SOURCES: "{" })).status).toBe(200);
  });
});

describe("the source Event Field", () => {
  it("lets a trigger filter start runs only for its org's events", async () => {
    const assetId = newAssetId();
    const workflow = await createWorkflow({
      name: `acme only ${crypto.randomUUID()}`,
      trigger: {
        eventTypes: ["system.api_token.create"],
        filter: { and: [onAsset(assetId), { field: "source", op: "eq", value: "acme" }] },
      },
      start: null,
    });
    const acme = await postTo("acme", oktaHeaders(ACME.secret), tokenEvent(assetId));
    const globex = await postTo("globex", oktaHeaders(GLOBEX.secret, GLOBEX.header), tokenEvent(assetId));
    const single = await postTo(null, oktaHeaders(HOOK_SECRET), tokenEvent(assetId));
    const run = await runOf(workflow.id, acme.event.uuid);
    expect(run.status).toBe("completed");
    expect(run.trigger).toMatchObject({ id: assetId, source: "acme" });
    for (const other of [globex, single]) {
      await consumed(other.event.uuid);
      expect(await runIdsFor(workflow.id, other.event.uuid)).toEqual([]);
    }
  });

  it("reads as absent in a queue message from an older deploy, which is still handled", async () => {
    const assetId = newAssetId();
    const named = await createWorkflow({
      name: `named only ${crypto.randomUUID()}`,
      trigger: { eventTypes: [], filter: { and: [onAsset(assetId), { field: "source", op: "exists" }] } },
      start: null,
    });
    const any = await createWorkflow({
      name: `any source ${crypto.randomUUID()}`,
      trigger: { eventTypes: [], filter: onAsset(assetId) },
      start: null,
    });
    const message = await storeWithoutEnqueue({ eventType: "system.api_token.create", assetId });
    const { source: _, ...olderFields } = message.fields;
    const result = await consume([{ ...message, fields: olderFields }]);
    expect(result.explicitAcks).toEqual(result.ids);
    expect((await runOf(any.id, message.uuid)).status).toBe("completed");
    expect(await runIdsFor(named.id, message.uuid)).toEqual([]);
  });

  it("is refused in a filter under a misspelt name, and listed among the Event Fields", async () => {
    const res = await apiJson<ErrorBody>(
      "POST",
      "/api/workflows",
      {
        name: "misspelt",
        trigger: { eventTypes: [], filter: { field: "sourc", op: "eq", value: "acme" } },
        start: null,
      },
      400,
    );
    expect(res.error.message).toContain("known fields: id, type, alternateId, displayName");
    expect(res.error.message).toContain("source");
    const types = await apiJson<{ eventFields: Array<{ key: string }> }>("GET", "/api/event-types");
    expect(types.eventFields.map((f) => f.key)).toContain("source");
  });
});

describe("GET /api/events?source=", () => {
  it("lists only the events of that source, each showing it", async () => {
    const assetId = newAssetId();
    const acme = await postTo("acme", oktaHeaders(ACME.secret), tokenEvent(assetId));
    await postTo("globex", oktaHeaders(GLOBEX.secret, GLOBEX.header), tokenEvent(assetId));
    await postTo(null, oktaHeaders(HOOK_SECRET), tokenEvent(assetId));
    const page = await apiJson<{ events: Array<{ uuid: string; source: string | null }> }>(
      "GET",
      `/api/events?id=${assetId}&source=acme`,
    );
    expect(page.events).toEqual([expect.objectContaining({ uuid: acme.event.uuid, source: "acme" })]);
    const all = await apiJson<{ events: Array<{ source: string | null }> }>("GET", `/api/events?id=${assetId}`);
    expect(all.events.map((e) => e.source).sort()).toEqual(["acme", "globex", null]);
    await apiJson<ErrorBody>("GET", "/api/events?source=Not%20A%20Name", undefined, 400);
  });
});

describe("the dashboard", () => {
  it("filters events by source and shows an event's source among its Event Fields", async () => {
    const session = await signIn();
    const assetId = newAssetId();
    const acme = await postTo("acme", oktaHeaders(ACME.secret), tokenEvent(assetId));
    await postTo("globex", oktaHeaders(GLOBEX.secret, GLOBEX.header), tokenEvent(assetId));
    const list = await html(getPage(`/events?id=${assetId}&source=acme`, session));
    expect(list.match(/data-key="([^"]+)"/g)).toEqual([`data-key="${acme.event.uuid}"`]);
    const detail = await html(getPage(`/events/${acme.event.uuid}`, session));
    expect(detail).toMatch(/Source <span class="code muted">source<\/span>\s*<\/th>\s*<td>acme<\/td>/);
  });
});
