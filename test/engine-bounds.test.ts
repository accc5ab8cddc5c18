/**
 * Bounded inputs and bounded storage (issue 15): Retry-After capped, only sortable
 * times written, Slack repeats marked as repeats, and retention for dead letters and
 * replay marks.
 */
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { isoAt } from "../src/db/run-writes";
import { deferSeconds, MAX_DEFER_SECONDS } from "../src/engine/defer";
import { applyRetention } from "../src/retention";
import { executeAction } from "../src/workflows/actions/execute";
import { SlackAction } from "../src/workflows/actions/spec";
import { eventFields } from "./event-fields";
import { interceptOutbound, SLACK_URL } from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

describe("deferrals", () => {
  it("honour a sane Retry-After, cap a huge one at an hour, and fall back on nonsense", () => {
    expect(deferSeconds(120, 1)).toBe(120);
    expect(deferSeconds(99_999_999_999_999, 1)).toBe(MAX_DEFER_SECONDS);
    expect(deferSeconds(Number.POSITIVE_INFINITY, 2)).toBe(60);
    expect(deferSeconds(Number.NaN, 3)).toBe(90);
    expect(deferSeconds(-5, 1)).toBe(30);
    expect(deferSeconds(undefined, 1)).toBe(30);
    expect(deferSeconds(0.2, 1)).toBe(1);
  });

  it("times outside 1970-9999 are refused before they are written, never stored as +010000-…", () => {
    expect(isoAt(Date.parse("2026-12-03T00:00:00.000Z"))).toBe("2026-12-03T00:00:00.000Z");
    expect(() => isoAt(Date.parse("9999-12-31T23:59:59.999Z") + 1)).toThrow(RangeError);
    expect(() => isoAt(Number.NaN)).toThrow(RangeError);
  });
});

describe("a Slack post repeated", () => {
  it("says it is an attempt after the first, with the step key; the first attempt is unmarked", async () => {
    const action = SlackAction.parse({
      type: "slack",
      webhook: { secret: "SLACK_WEBHOOK_URL" },
      text: "token created",
    });
    const scope = { trigger: eventFields(), event: eventFields(), nodes: {}, run: { id: "r1", workflowId: "w1" } };
    for (const attempt of [1, 2]) {
      const outcome = await executeAction(action, { scope, env, idempotencyKey: "r1:notify", attempt });
      expect(outcome.status).toBe("succeeded");
    }
    const texts = outbound.to(SLACK_URL).map((call) => JSON.parse(call.body).text);
    expect(texts[0]).toBe("token created");
    expect(texts[1]).toMatch(
      /^token created\n_\(attempt 2 of step r1:notify: an earlier attempt may already have posted this\)_$/,
    );
  });
});

describe("retention", () => {
  it("deletes dead letters and replay marks older than the retention, and keeps newer ones", async () => {
    const old = new Date(Date.now() - 200 * 86_400_000).toISOString();
    const recent = new Date().toISOString();
    await env.DB.batch([
      env.DB.prepare(
        "insert into dead_letters (id, reason, received_at) values ('old-letter', 'x', ?), ('new-letter', 'x', ?)",
      ).bind(old, recent),
      env.DB.prepare(
        "insert into replayed_runs (workflow_id, trigger_event_uuid, replay_id, requested_at) values ('w', 'old', 'r', ?), ('w', 'new', 'r', ?)",
      ).bind(old, recent),
    ]);
    const result = await applyRetention(createDb(env.DB), { RETENTION_DAYS: "90" }, new Date());
    expect(result).toMatchObject({ deadLetters: 1, replayMarks: 1 });
    const letters = await env.DB.prepare("select id from dead_letters order by id").all<{ id: string }>();
    expect(letters.results.map((r) => r.id)).toEqual(["new-letter"]);
    const marks = await env.DB.prepare("select trigger_event_uuid as t from replayed_runs").all<{ t: string }>();
    expect(marks.results.map((r) => r.t)).toEqual(["new"]);
  });
});
