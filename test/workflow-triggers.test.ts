/**
 * Which events start runs: trigger event types and filters through real deliveries
 * and the real queue consumer, events outside the System Category, and duplicates
 * (a redelivery, the same event in a new delivery, the same queue message twice)
 * starting exactly one run. Then matchesTrigger and evaluate as pure functions.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { EventFields } from "../src/okta/event-fields";
import { SYSTEM_EVENT_TYPES } from "../src/okta/event-types";
import type { Trigger } from "../src/workflows/definition";
import { evaluate, type Predicate } from "../src/workflows/predicate";
import { matchesTrigger } from "../src/workflows/trigger";
import { capturedRateLimitTargets } from "../tools/local-okta/builders";
import { eventFields } from "./event-fields";
import {
  api,
  buildEvent,
  consume,
  consumed,
  createWorkflow,
  deliver,
  deliverEvent,
  interceptOutbound,
  newAssetId,
  onAsset,
  post,
  runIdsFor,
  runOf,
  storeWithoutEnqueue,
  until,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

/** A workflow that records each matching event as a completed run (no nodes). */
function recorder(trigger: Record<string, unknown>) {
  return createWorkflow({ name: `trigger test ${crypto.randomUUID()}`, trigger, start: null });
}

/** Delivers the event and waits until the consumer has handled it; returns how many runs it started for the workflow. */
async function runsStartedBy(workflowId: string, options: Parameters<typeof deliverEvent>[0]): Promise<number> {
  const event = await deliverEvent(options);
  await consumed(event.uuid);
  return (await runIdsFor(workflowId, event.uuid)).length;
}

describe("trigger event types", () => {
  it("starts a completed run for a listed type and none for an unlisted one", async () => {
    const assetId = newAssetId();
    const workflow = await recorder({ eventTypes: ["system.api_token.revoke"], filter: onAsset(assetId) });
    const revoke = await deliverEvent({ eventType: "system.api_token.revoke", assetId });
    const run = await runOf(workflow.id, revoke.uuid);
    expect(run).toMatchObject({ status: "completed", workflowVersion: 1, assetId, steps: [] });
    expect(await runsStartedBy(workflow.id, { eventType: "system.api_token.create", assetId })).toBe(0);
  });

  it("with an empty list starts runs for each of the 13 types", async () => {
    const assetId = newAssetId();
    const workflow = await recorder({ eventTypes: [], filter: onAsset(assetId) });
    const events = SYSTEM_EVENT_TYPES.map((eventType) => buildEvent({ eventType, assetId }));
    await deliver(events);
    for (const event of events) {
      expect((await runOf(workflow.id, event.uuid)).status, String(event.eventType)).toBe("completed");
    }
  });

  it("never starts a run for an event outside the category, even for a workflow on all 13 types", async () => {
    const assetId = newAssetId("00u");
    const workflow = await recorder({ eventTypes: [], filter: onAsset(assetId) });
    for (const eventType of ["user.session.start", "user.lifecycle.create", "system.api_token.delete"]) {
      expect(await runsStartedBy(workflow.id, { eventType, assetId }), eventType).toBe(0);
    }
    // The same asset in a category event does start one: the filter was not what stopped them.
    expect(await runsStartedBy(workflow.id, { eventType: "system.api_token.create", assetId })).toBe(1);
  });

  it("without a filter matches every event of the listed type", async () => {
    // No filter means every token revocation in this file could start it, so it is disabled again at the end.
    const workflow = await recorder({ eventTypes: ["system.api_token.revoke"] });
    try {
      const first = await deliverEvent({ eventType: "system.api_token.revoke", assetId: newAssetId() });
      const second = await deliverEvent({
        eventType: "system.api_token.revoke",
        assetId: newAssetId(),
        result: "FAILURE",
      });
      expect((await runOf(workflow.id, first.uuid)).status).toBe("completed");
      expect((await runOf(workflow.id, second.uuid)).status).toBe("completed");
    } finally {
      expect((await api("POST", `/api/workflows/${workflow.id}/disable`)).status).toBe(200);
    }
  });
});

describe("trigger filters, through real deliveries", () => {
  it("eq on the asset only matches that asset", async () => {
    const assetId = newAssetId();
    const workflow = await recorder({ eventTypes: ["system.import.start"], filter: onAsset(assetId) });
    expect(await runsStartedBy(workflow.id, { eventType: "system.import.start", assetId: newAssetId() })).toBe(0);
    expect(await runsStartedBy(workflow.id, { eventType: "system.import.start", assetId })).toBe(1);
  });

  it("in, startsWith, not, and/or combine as written", async () => {
    const assetId = newAssetId();
    // Token events on this asset, failed or named ci-*, unless the alternate id is blocked.
    const workflow = await recorder({
      eventTypes: ["system.api_token.create"],
      filter: {
        and: [
          { field: "id", op: "in", values: [assetId, "someone-else"] },
          {
            or: [
              { field: "eventResult", op: "eq", value: "FAILURE" },
              { field: "displayName", op: "startsWith", value: "ci-" },
            ],
          },
          { not: { field: "alternateId", op: "in", values: ["blocked"] } },
        ],
      },
    });
    const token = (displayName: string, alternateId = "unknown") => [
      { id: assetId, type: "Token", alternateId, displayName },
    ];
    const cases: Array<[string, Parameters<typeof deliverEvent>[0], number]> = [
      ["ci- name, success", { eventType: "system.api_token.create", target: token("ci-deploy") }, 1],
      ["other name, failure", { eventType: "system.api_token.create", target: token("laptop"), result: "FAILURE" }, 1],
      ["other name, success", { eventType: "system.api_token.create", target: token("laptop") }, 0],
      ["ci- name, blocked", { eventType: "system.api_token.create", target: token("ci-deploy", "blocked") }, 0],
      ["prefix is case-sensitive", { eventType: "system.api_token.create", target: token("CI-deploy") }, 0],
      // Okta's mixed-case result is upper-cased before filters see it.
      ["Failure from Okta", { eventType: "system.api_token.create", target: token("laptop"), result: "Failure" }, 1],
    ];
    for (const [label, options, expected] of cases) {
      expect(await runsStartedBy(workflow.id, options), label).toBe(expected);
    }
  });

  it("neq, contains and exists over null fields", async () => {
    const assetId = newAssetId("/api/v1/");
    // A URL Pattern target as captured, with no alternate id or display name (it falls back to the id).
    const workflow = await recorder({
      eventTypes: ["system.org.rate_limit.warning"],
      filter: {
        and: [
          onAsset(assetId),
          { not: { field: "alternateId", op: "exists" } },
          { field: "alternateId", op: "neq", value: "anything" },
          { field: "displayName", op: "contains", value: "/api/v1/" },
        ],
      },
    });
    const target = capturedRateLimitTargets(assetId);
    expect(await runsStartedBy(workflow.id, { eventType: "system.org.rate_limit.warning", assetId, target })).toBe(1);
  });
});

describe("the same event delivered more than once starts exactly one run", () => {
  const notifyingWorkflow = (assetId: string, base: string) =>
    createWorkflow({
      name: `dedupe ${crypto.randomUUID()}`,
      trigger: { eventTypes: ["system.api_token.create"], filter: onAsset(assetId) },
      start: "notify",
      nodes: { notify: post(`${base}/{{ trigger.id }}`) },
    });

  it("when Okta redelivers the same delivery (same eventId)", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const workflow = await notifyingWorkflow(assetId, base);
    const event = buildEvent({ eventType: "system.api_token.create", assetId });
    const eventId = crypto.randomUUID();
    await deliver([event], { eventId });
    expect((await runOf(workflow.id, event.uuid)).status).toBe("completed");
    await deliver([event], { eventId });
    // A later event is the sync point: by the time it is consumed, a duplicate would have been too.
    await consumed((await deliverEvent({ eventType: "system.api_token.revoke", assetId })).uuid);
    expect(await runIdsFor(workflow.id, event.uuid)).toHaveLength(1);
    expect(outbound.to(base)).toHaveLength(1);
  });

  it("when the same event uuid arrives in a new delivery", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const workflow = await notifyingWorkflow(assetId, base);
    const event = buildEvent({ eventType: "system.api_token.create", assetId });
    await deliver([event, event]);
    await deliver([event]);
    expect((await runOf(workflow.id, event.uuid)).status).toBe("completed");
    await consumed((await deliverEvent({ eventType: "system.api_token.revoke", assetId })).uuid);
    expect(await runIdsFor(workflow.id, event.uuid)).toHaveLength(1);
    expect(outbound.to(base)).toHaveLength(1);
  });

  it("when the queue hands the consumer the same event message twice", async () => {
    const assetId = newAssetId();
    const base = `https://${crypto.randomUUID()}.example.test`;
    const workflow = await notifyingWorkflow(assetId, base);
    const message = await storeWithoutEnqueue({ eventType: "system.api_token.create", assetId });
    const first = await consume([message]);
    const second = await consume([message]);
    expect(first.explicitAcks).toEqual(first.ids);
    expect(second.explicitAcks).toEqual(second.ids);
    const run = await runOf(workflow.id, message.uuid);
    expect(run.status).toBe("completed");
    expect(await runIdsFor(workflow.id, message.uuid)).toEqual([run.id]);
    // The run message may have been sent twice; the action still ran once.
    await until(async () => outbound.to(base).length > 0, "the action's request");
    expect(outbound.to(base)).toHaveLength(1);
  });
});

describe("matchesTrigger (pure)", () => {
  const fields = (overrides: Partial<EventFields> = {}): EventFields => ({
    id: "00T1",
    type: "Token",
    alternateId: "unknown",
    displayName: "ci-token",
    eventType: "system.api_token.create",
    eventResult: "SUCCESS",
    eventDate: "2026-11-20T10:00:00.000Z",
    eventTimestamp: "2026-11-20T10:00:01.000Z",
    ...overrides,
  });
  const trigger = (overrides: Partial<Trigger> = {}): Trigger => ({
    category: "okta.system",
    eventTypes: [],
    ...overrides,
  });

  it("an empty type list matches all 13 types and nothing else", () => {
    for (const eventType of SYSTEM_EVENT_TYPES) expect(matchesTrigger(trigger(), fields({ eventType }))).toBe(true);
    for (const eventType of ["user.session.start", "system.api_token.delete", ""]) {
      expect(matchesTrigger(trigger(), fields({ eventType })), eventType).toBe(false);
    }
  });

  it("a type list matches only its types", () => {
    const t = trigger({ eventTypes: ["system.import.start", "system.import.complete"] });
    expect(matchesTrigger(t, fields({ eventType: "system.import.complete" }))).toBe(true);
    expect(matchesTrigger(t, fields({ eventType: "system.import.roadblock" }))).toBe(false);
  });

  it("the filter must hold as well as the type", () => {
    const t = trigger({
      eventTypes: ["system.api_token.create"],
      filter: { field: "eventResult", op: "eq", value: "FAILURE" },
    });
    expect(matchesTrigger(t, fields({ eventResult: "FAILURE" }))).toBe(true);
    expect(matchesTrigger(t, fields())).toBe(false);
    expect(matchesTrigger(t, fields({ eventType: "system.api_token.revoke", eventResult: "FAILURE" }))).toBe(false);
  });
});

describe("evaluate (pure)", () => {
  const f = eventFields({ id: "00T1" });
  const cases: Array<[string, Predicate, boolean]> = [
    ["eq", { field: "type", op: "eq", value: "Token" }, true],
    ["eq is case-sensitive", { field: "type", op: "eq", value: "token" }, false],
    ["neq", { field: "type", op: "neq", value: "User" }, true],
    ["neq on a null field", { field: "alternateId", op: "neq", value: "x" }, true],
    ["eq on a null field", { field: "alternateId", op: "eq", value: "" }, false],
    ["in", { field: "eventResult", op: "in", values: ["FAILURE", "SUCCESS"] }, true],
    ["in, absent", { field: "eventResult", op: "in", values: ["FAILURE"] }, false],
    ["in on a null field", { field: "alternateId", op: "in", values: [""] }, false],
    ["contains", { field: "eventType", op: "contains", value: "api_token" }, true],
    ["contains on a null field", { field: "alternateId", op: "contains", value: "" }, false],
    ["startsWith", { field: "eventType", op: "startsWith", value: "system." }, true],
    ["startsWith, no", { field: "eventType", op: "startsWith", value: "security." }, false],
    ["exists", { field: "displayName", op: "exists" }, true],
    ["exists on a null field", { field: "alternateId", op: "exists" }, false],
    ["not", { not: { field: "type", op: "eq", value: "Token" } }, false],
    [
      "and: all must hold",
      {
        and: [
          { field: "type", op: "eq", value: "Token" },
          { field: "eventResult", op: "eq", value: "FAILURE" },
        ],
      },
      false,
    ],
    [
      "or: one is enough",
      {
        or: [
          { field: "type", op: "eq", value: "User" },
          { field: "eventResult", op: "eq", value: "SUCCESS" },
        ],
      },
      true,
    ],
    [
      "nested",
      {
        and: [
          { or: [{ field: "id", op: "eq", value: "nope" }, { not: { field: "alternateId", op: "exists" } }] },
          { not: { not: { field: "displayName", op: "startsWith", value: "ci-" } } },
        ],
      },
      true,
    ],
  ];
  it.each(cases)("%s", (_, predicate, expected) => {
    expect(evaluate(predicate, f)).toBe(expected);
  });
});
