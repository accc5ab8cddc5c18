/**
 * Moving the cron's clock: `wrangler dev --test-scheduled` runs the scheduled handler
 * on `GET /cdn-cgi/local/scheduled?cron=...&time=<ms>` with that `scheduledTime`. Only
 * the cron's clock moves; Durable Object alarms and `Date.now()` keep real time.
 */

export interface CronDrive {
  /** Minutes the cron's clock moves per call. */
  stepMinutes: number;
  /** Minutes it moves in all; past that it keeps firing at the horizon's time. */
  horizonMinutes: number;
  /** Real seconds between calls. */
  stepWaitSeconds: number;
  /** Real seconds to keep going after the horizon is reached. */
  deadlineSeconds: number;
}

/**
 * Fires the cron at now + step, now + 2 steps, ... up to the horizon, then at the horizon
 * until the deadline; after each call and wait, `settled(minutesAhead)` says whether to
 * stop. Resolves with how far ahead the clock went, in minutes.
 */
export async function driveCron(
  url: string,
  drive: CronDrive,
  settled: (minutesAhead: number) => Promise<boolean>,
): Promise<number> {
  const start = Date.now();
  const steps = Math.ceil(drive.horizonMinutes / drive.stepMinutes);
  let step = 0;
  let horizonAt: number | undefined;
  for (;;) {
    if (step < steps) step++;
    horizonAt ??= step === steps ? Date.now() : undefined;
    if (horizonAt !== undefined && Date.now() - horizonAt > drive.deadlineSeconds * 1000) break;
    const time = start + step * drive.stepMinutes * 60_000;
    const outcome = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${time}`)
      .then(async (res) => (res.ok ? "ok" : `${res.status} ${await res.text()}`))
      .catch((err: unknown) => String(err));
    if (outcome !== "ok") console.log(`  cron call failed: ${outcome.slice(0, 200)}`);
    await new Promise((resolve) => setTimeout(resolve, drive.stepWaitSeconds * 1000));
    if (await settled(step * drive.stepMinutes)) break;
  }
  return step * drive.stepMinutes;
}
