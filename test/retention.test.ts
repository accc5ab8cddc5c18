/**
 * Retention: what the cron deletes once it is older than RETENTION_DAYS, in bounded
 * chunks, and what it keeps because a live run still refers to it. Rows are written
 * straight into D1 as the engine leaves them, dated 100 days back.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { applyRetention, retentionDays } from "../src/retention";
import { runCron } from "./fault-support";

const DAY_MS = 24 * 60 * 60 * 1000;
const old = new Date(Date.now() - 100 * DAY_MS).toISOString();
const recent = new Date(Date.now() - 1 * DAY_MS).toISOString();
const db = createDb(env.DB);

async function insertEvent(options: { at: string; consumed?: boolean; tag: string }): Promise<string> {
  const uuid = `${options.tag}-${crypto.randomUUID()}`;
  await env.DB.batch([
    env.DB.prepare("insert into deliveries (event_id, received_at, event_count) values (?, ?, 1)").bind(
      `delivery-${uuid}`,
      options.at,
    ),
    env.DB.prepare(
      `insert into events (uuid, delivery_id, event_type, event_date, event_timestamp, in_category, raw, consumed_at)
       values (?, ?, 'system.import.start', ?, ?, 1, '{"secret":"raw payload"}', ?)`,
    ).bind(uuid, `delivery-${uuid}`, options.at, options.at, options.consumed === false ? null : options.at),
  ]);
  return uuid;
}

interface RunOptions {
  status: string;
  trigger: string;
  startedAt?: string;
  repairAfter?: string;
  waitRoom?: string;
  resumedBy?: string;
}

async function insertRun(options: RunOptions): Promise<string> {
  const id = `run-${crypto.randomUUID()}`;
  const at = options.startedAt ?? old;
  await env.DB.batch([
    env.DB.prepare(
      `insert into runs (id, workflow_id, workflow_version, trigger_event_uuid, status, started_at, updated_at, repair_after, wait_room)
       values (?, 'wf-retention', 1, ?, ?, ?, ?, ?, ?)`,
    ).bind(id, options.trigger, options.status, at, at, options.repairAfter ?? null, options.waitRoom ?? null),
    env.DB.prepare(
      `insert into run_steps (run_id, node_id, seq, kind, status, outcome, output, started_at)
       values (?, 'wait', 1, 'event', 'succeeded', 'next', ?, ?)`,
    ).bind(id, JSON.stringify(options.resumedBy ? { eventUuid: options.resumedBy } : null), at),
  ]);
  return id;
}

const exists = async (table: string, column: string, value: string) =>
  (await env.DB.prepare(`select 1 as x from ${table} where ${column} = ?`).bind(value).first()) !== null;
const runKept = (id: string) => exists("runs", "id", id);
const stepsKept = (id: string) => exists("run_steps", "run_id", id);
const eventKept = (uuid: string) => exists("events", "uuid", uuid);

describe("RETENTION_DAYS", () => {
  it.each([
    [undefined, 90],
    ["", 90],
    ["30", 30],
    ["0", 0],
    ["-1", 90],
    ["7.5", 90],
    ["ninety", 90],
  ])("%j means %d days", (value, days) => {
    expect(retentionDays(value)).toBe(days);
  });

  it('"0" deletes nothing', async () => {
    const uuid = await insertEvent({ at: old, tag: "off" });
    expect(await applyRetention(db, { RETENTION_DAYS: "0" }, new Date())).toBeNull();
    expect(await eventKept(uuid)).toBe(true);
  });
});

it("deletes old ended runs, their steps, old handled events and deliveries; keeps everything a live run refers to", async () => {
  const endedTrigger = await insertEvent({ at: old, tag: "ended-trigger" });
  const ended = await insertRun({ status: "completed", trigger: endedTrigger });
  const failedTrigger = await insertEvent({ at: old, tag: "failed-trigger" });
  const failed = await insertRun({ status: "failed", trigger: failedTrigger });

  const waitingTrigger = await insertEvent({ at: old, tag: "waiting-trigger" });
  const waiting = await insertRun({ status: "waiting", trigger: waitingTrigger });
  const runningTrigger = await insertEvent({ at: old, tag: "running-trigger" });
  const resumedOn = await insertEvent({ at: old, tag: "resumed-on" });
  const running = await insertRun({ status: "running", trigger: runningTrigger, resumedBy: resumedOn });
  const repairTrigger = await insertEvent({ at: old, tag: "repair-trigger" });
  const toRepair = await insertRun({ status: "completed", trigger: repairTrigger, repairAfter: recent });
  const openWaitTrigger = await insertEvent({ at: old, tag: "open-wait-trigger" });
  const openWait = await insertRun({ status: "terminated", trigger: openWaitTrigger, waitRoom: "0oaASSET" });

  const unhandled = await insertEvent({ at: old, consumed: false, tag: "unhandled" });
  const fresh = await insertEvent({ at: recent, tag: "fresh" });
  const freshRun = await insertRun({ status: "completed", trigger: fresh, startedAt: recent });

  await runCron(Date.now());

  for (const id of [ended, failed]) {
    expect(await runKept(id)).toBe(false);
    expect(await stepsKept(id)).toBe(false);
  }
  expect(await eventKept(endedTrigger)).toBe(false);
  expect(await eventKept(failedTrigger)).toBe(false);
  expect(await exists("deliveries", "event_id", `delivery-${endedTrigger}`)).toBe(false);

  for (const id of [waiting, running, toRepair, openWait, freshRun]) {
    expect(await runKept(id)).toBe(true);
    expect(await stepsKept(id)).toBe(true);
  }
  for (const uuid of [waitingTrigger, runningTrigger, resumedOn, repairTrigger, openWaitTrigger, unhandled, fresh]) {
    expect(await eventKept(uuid), uuid).toBe(true);
  }
  expect(await exists("deliveries", "event_id", `delivery-${fresh}`)).toBe(true);
});

it("works in bounded chunks: a pass deletes at most chunk × maxChunks rows per table; later passes finish", async () => {
  // Others tests' leftovers are deleted first, so this test counts only its own.
  await applyRetention(db, env, new Date());
  const uuids = [];
  for (let i = 0; i < 5; i++) uuids.push(await insertEvent({ at: old, tag: `chunk-${i}` }));
  const limits = { chunk: 2, maxChunks: 1 };

  const first = await applyRetention(db, env, new Date(), limits);
  expect(first).toMatchObject({ runs: 0, events: 2, deliveries: 2 });
  const second = await applyRetention(db, env, new Date(), { chunk: 2, maxChunks: 5 });
  expect(second).toMatchObject({ runs: 0, events: 3, deliveries: 3 });
  for (const uuid of uuids) expect(await eventKept(uuid)).toBe(false);
  expect(await applyRetention(db, env, new Date(), limits)).toMatchObject({ runs: 0, events: 0, deliveries: 0 });
});
