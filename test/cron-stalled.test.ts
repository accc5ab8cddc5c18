/** The cron hands running runs whose queue message was lost back to the consumer. */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import worker from "../src/index";
import { expectLogged } from "./expected-logs";
import { until } from "./paused-support";

async function runCron(at: number): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: "* * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** A run row as a consumer would leave it after the queue gave up on its message. */
async function insertRunningRun(updatedAt: string): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `insert into runs (id, workflow_id, workflow_version, trigger_event_uuid, asset_id, status, started_at, updated_at, repair_after)
     values (?, ?, 1, ?, null, 'running', ?, ?, ?)`,
  )
    .bind(
      id,
      `missing-${id}`,
      crypto.randomUUID(),
      updatedAt,
      updatedAt,
      new Date(Date.parse(updatedAt) + 15 * 60_000).toISOString(),
    )
    .run();
  return id;
}

async function statusOf(id: string) {
  return env.DB.prepare("select status, error from runs where id = ?")
    .bind(id)
    .first<{ status: string; error: string | null }>();
}

it("re-enqueues a running run idle for over 15 minutes, and leaves a recently active one alone", async () => {
  // The stalled run names a workflow that does not exist, so its re-run fails: an expected "run failed".
  expectLogged("warn", "run failed");
  const now = Date.now();
  const stalled = await insertRunningRun(new Date(now - 16 * 60_000).toISOString());
  const recent = await insertRunningRun(new Date(now - 60_000).toISOString());
  await runCron(now);
  // The consumer executes the stalled run; its workflow version does not exist, so it fails visibly.
  const result = await until(async () => {
    const row = await statusOf(stalled);
    return row?.status === "failed" ? row : null;
  }, "the stalled run to be executed");
  expect(result.error).toContain("does not exist");
  expect((await statusOf(recent))?.status).toBe("running");
});
