/**
 * `npm run crash-test`: kill the whole `wrangler dev` process group while awaited events
 * and the resumes they cause are in flight, restart on the same local state, drive the
 * cron's clock forward, and check that every run reaches the end its events decide,
 * every accepted event is stored once and no action runs under two Idempotency-Keys.
 * A long, manual (or CI-optional) test: not part of `npm test`. Exits 1 on FAIL.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Delivery, delivery, send, sendAll } from "./okta-sender";
import { startActionReceiver } from "./receiver";
import { type AssetPlan, allAtTheirEnd, judge, type RunView } from "./verdict";
import { applyLocalMigrations, type DevServer, startDev } from "./wrangler-dev";

const HELP = `Usage: npm run crash-test [-- options]

  --runs N              runs that act, wait for a later event on their asset, act again (default 200)
  --timeouts M          runs that wait for an event that never comes and act on timeout (default 50; 0: none)
  --timeout-seconds S   their event node's timeout, real time: alarms keep real time (default 60)
  --kill-after K        SIGKILL the process group once K awaited deliveries were accepted (default N/2)
  --kill-resumed R      ... and R resumed runs made their second action (default 10), so that
                        resumes are in flight; sending goes on meanwhile
  --concurrency C       deliveries in flight (default 8)
  --step-minutes X      how far each cron call moves the cron's clock (default 20)
  --horizon-minutes H   how far to move it in all (default 180)
  --step-wait S         real seconds between cron calls (default 5)
  --deadline S          real seconds to keep waiting for the end after the last step (default 360: longer than
                        the 5-minute real-time lease of the engine before issue 7)
  --strict-repeats      fail (not warn) when an action is repeated under its own Idempotency-Key
  --port P              wrangler dev's port (default 8794; the receiver uses P+1, the inspector P+2)
  --keep                keep the temporary state folder and logs (kept anyway on FAIL)`;

const HOOK_SECRET = "crash-test-hook-secret";
const ADMIN_TOKEN = "crash-test-admin-token";
const TRIGGER = "system.import.start";
const AWAITED = "system.import.complete";
const TIMEOUT_TRIGGER = "system.api_token.create";
const NEVER_SENT = "system.api_token.revoke";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string" },
      timeouts: { type: "string" },
      "timeout-seconds": { type: "string" },
      "kill-after": { type: "string" },
      "kill-resumed": { type: "string" },
      concurrency: { type: "string" },
      "step-minutes": { type: "string" },
      "horizon-minutes": { type: "string" },
      "step-wait": { type: "string" },
      deadline: { type: "string" },
      "strict-repeats": { type: "boolean" },
      port: { type: "string" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const num = (name: keyof typeof values, fallback: number, min = 1) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
    return n;
  };
  const runs = num("runs", 200);
  return {
    help: values.help ?? false,
    runs,
    timeouts: num("timeouts", 50, 0),
    timeoutSeconds: num("timeout-seconds", 60),
    killAfter: num("kill-after", Math.max(1, Math.floor(runs / 2))),
    killResumed: num("kill-resumed", Math.min(10, runs), 0),
    concurrency: num("concurrency", 8),
    stepMinutes: num("step-minutes", 20),
    horizonMinutes: num("horizon-minutes", 180),
    stepWaitSeconds: num("step-wait", 5, 0),
    deadlineSeconds: num("deadline", 360, 0),
    strictRepeats: values["strict-repeats"] ?? false,
    port: num("port", 8794),
    keep: values.keep ?? false,
  };
}

type Options = ReturnType<typeof options>;

/** The two workflows, created through POST /api/workflows. */
function workflows(receiver: string, timeoutSeconds: number) {
  const act = (node: string, next: string | null) => ({
    kind: "action",
    action: { type: "http", method: "POST", url: `${receiver}/${node}/{{ trigger.id }}`, retries: 0 },
    next,
  });
  return [
    {
      name: "crash test: act, wait, act",
      trigger: { eventTypes: [TRIGGER], filter: { field: "id", op: "startsWith", value: "crash-r-" } },
      start: "first",
      nodes: {
        first: act("first", "wait"),
        wait: { kind: "event", eventTypes: [AWAITED], timeoutSeconds: 86_400, next: "second", onTimeout: null },
        second: act("second", null),
      },
    },
    {
      name: "crash test: wait, act on timeout",
      trigger: { eventTypes: [TIMEOUT_TRIGGER], filter: { field: "id", op: "startsWith", value: "crash-t-" } },
      start: "wait",
      nodes: {
        wait: { kind: "event", eventTypes: [NEVER_SENT], timeoutSeconds, next: null, onTimeout: "page" },
        page: act("page", null),
      },
    },
  ];
}

async function api<T>(dev: DevServer, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${dev.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Every page of a list endpoint (`/api/runs`, `/api/events`). */
async function listAll<T>(dev: DevServer, path: string, key: string): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "200", ...(cursor ? { cursor } : {}) });
    const page: Record<string, unknown> = await api(dev, "GET", `${path}?${query}`);
    all.push(...(page[key] as T[]));
    cursor = (page.nextCursor as string | null) ?? null;
  } while (cursor);
  return all;
}

const runsOf = (dev: DevServer) => listAll<RunView>(dev, "/api/runs", "runs");

function statusLine(runs: readonly RunView[]): string {
  const counts: Record<string, number> = {};
  for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return Object.entries(counts)
    .map(([status, n]) => `${status} ${n}`)
    .join(", ");
}

async function main(opts: Options): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), "crash-test-"));
  const persistTo = join(dir, "state");
  const envFile = join(dir, "dev.vars");
  const logFile = join(dir, "wrangler.log");
  await writeFile(
    envFile,
    `OKTA_HOOK_SECRET="${HOOK_SECRET}"\nOKTA_HOOK_SECRET_PREVIOUS=""\nADMIN_TOKEN="${ADMIN_TOKEN}"\n`,
  );
  const devOptions = { port: opts.port, inspectorPort: opts.port + 2, persistTo, envFile, logFile };
  console.log(`State, env file and wrangler log in ${dir}`);
  const receiver = await startActionReceiver(opts.port + 1);
  let dev: DevServer | undefined;
  let passed = false;
  const cleanUp = async () => {
    await dev?.stop();
    await receiver.close();
  };
  process.once("SIGINT", () => {
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    let t = Date.now();
    await applyLocalMigrations(persistTo);
    dev = await startDev(devOptions);
    console.log(`wrangler dev on ${dev.url} (migrated and started in ${seconds(t)}); receiver on ${receiver.url}`);
    for (const w of workflows(receiver.url, opts.timeoutSeconds)) await api(dev, "POST", "/api/workflows", w);

    // Phase 1: the triggers; every run acts once and pauses.
    const plans = new Map<string, AssetPlan>();
    const triggers: Delivery[] = [];
    const awaited: Delivery[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const assetId = `crash-r-${i}`;
      triggers.push(delivery(TRIGGER, assetId));
      awaited.push(delivery(AWAITED, assetId));
      plans.set(assetId, { assetId, kind: "resume", triggerAccepted: false, awaitedAccepted: false });
    }
    for (let i = 0; i < opts.timeouts; i++) {
      const assetId = `crash-t-${i}`;
      triggers.push(delivery(TIMEOUT_TRIGGER, assetId));
      plans.set(assetId, { assetId, kind: "timeout", triggerAccepted: false, awaitedAccepted: false });
    }
    t = Date.now();
    await sendAll(dev.url, HOOK_SECRET, triggers, opts.concurrency);
    const rejected = triggers.filter((d) => !d.accepted);
    if (rejected.length > 0) await sendAll(dev.url, HOOK_SECRET, rejected, opts.concurrency);
    console.log(
      `Phase 1: ${triggers.length} trigger deliveries, ${triggers.filter((d) => d.accepted).length} accepted (${seconds(t)})`,
    );
    const paused = Date.now();
    for (;;) {
      const runs = await runsOf(dev);
      const waiting = runs.filter((r) => r.status === "waiting" && r.assetId?.startsWith("crash-r-")).length;
      if (waiting >= opts.runs) break;
      if (Date.now() - paused > 180_000) {
        console.log(`  not all runs paused after 180 s (${statusLine(runs)}); going on anyway`);
        break;
      }
      await sleep(500);
    }
    console.log(
      `  ${opts.runs} act-wait-act runs waiting after ${seconds(paused)}; /first calls: ${countPrefix("/first/")}`,
    );

    // Phase 2: the awaited events; SIGKILL the process group while they and the resumes are in flight.
    t = Date.now();
    let accepted = 0;
    let killed: Promise<void> | undefined;
    const server = dev;
    const maybeKill = () => {
      if (!killed && accepted >= opts.killAfter && countPrefix("/second/") >= opts.killResumed) {
        killed = server.kill();
      }
      return killed !== undefined;
    };
    receiver.onCall(maybeKill);
    await sendAll(server.url, HOOK_SECRET, awaited, opts.concurrency, {
      onAccepted: () => {
        accepted++;
        maybeKill();
      },
      halted: () => killed !== undefined,
    });
    // Everything was sent before the condition held: wait for the resumes a little, then kill anyway.
    for (let waited = 0; !killed && waited < 30_000; waited += 50) await sleep(50);
    receiver.onCall(undefined);
    killed ??= server.kill();
    await killed;
    const acceptedBeforeKill = accepted;
    const beforeKill = new Set(awaited.filter((d) => d.accepted).map((d) => d.event.assetId));
    const secondBefore = countPrefix("/second/");
    console.log(
      `Phase 2: SIGKILL to wrangler dev's process group after ${accepted} awaited deliveries were accepted (${seconds(t)}); ` +
        `${awaited.filter((d) => d.attempts > 0 && !d.accepted).length} in flight failed, ` +
        `${awaited.filter((d) => d.attempts === 0).length} not yet sent; /second calls so far: ${secondBefore}`,
    );

    // Phase 3: restart on the same state; Okta retries what was not accepted, once, and sends the rest.
    t = Date.now();
    dev = await startDev(devOptions);
    console.log(`Phase 3: restarted on the same state in ${seconds(t)}`);
    const failed = awaited.filter((d) => d.attempts > 0 && !d.accepted);
    const unsent = awaited.filter((d) => d.attempts === 0);
    await sendAll(dev.url, HOOK_SECRET, [...failed, ...unsent], opts.concurrency);
    // An unsent delivery that failed on its first try gets Okta's one retry too.
    for (const d of unsent.filter((u) => !u.accepted)) await send(dev.url, HOOK_SECRET, d);
    console.log(
      `  Okta's retry of ${failed.length} failed deliveries and first delivery of ${unsent.length}: ` +
        `${awaited.filter((d) => d.accepted).length} of ${awaited.length} awaited events now accepted`,
    );
    for (const d of [...triggers, ...awaited]) {
      const plan = plans.get(d.event.assetId) as AssetPlan;
      if (d.event.eventType === AWAITED) plan.awaitedAccepted = d.accepted;
      else plan.triggerAccepted = d.accepted;
    }
    const planList = [...plans.values()];

    // Phase 4: drive the cron's clock forward until every run is at its end, or the deadline.
    const clockStart = Date.now();
    const steps = Math.ceil(opts.horizonMinutes / opts.stepMinutes);
    let runs: RunView[] = [];
    let step = 0;
    let horizonAt: number | undefined;
    for (;;) {
      if (step < steps) step++;
      horizonAt ??= step === steps ? Date.now() : undefined;
      if (horizonAt !== undefined && Date.now() - horizonAt > opts.deadlineSeconds * 1000) break;
      // Past the horizon the cron keeps firing at the horizon's time, as real time catches up.
      const cronTime = clockStart + step * opts.stepMinutes * 60_000;
      const cron = await fetch(
        `${dev.url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${cronTime}`,
      )
        .then(async (res) => (res.ok ? "ok" : `${res.status} ${await res.text()}`))
        .catch((err: unknown) => String(err));
      if (cron !== "ok") console.log(`  cron call failed: ${cron.slice(0, 200)}`);
      await sleep(opts.stepWaitSeconds * 1000);
      runs = await runsOf(dev);
      console.log(
        `  cron +${step * opts.stepMinutes} min (real ${seconds(clockStart)}): ${statusLine(runs)}; ` +
          `action calls ${receiver.calls().length}`,
      );
      if (allAtTheirEnd(planList, runs)) break;
    }

    // Phase 5: judge from the public API and the receiver.
    await sleep(2_000);
    runs = await runsOf(dev);
    const events = await listAll<{ uuid: string }>(dev, "/api/events", "events");
    const acceptedEventUuids = [...triggers, ...awaited].filter((d) => d.accepted).map((d) => d.event.uuid);
    const checks = judge({
      acceptedEventUuids,
      storedEventUuids: events.map((e) => e.uuid),
      plans: planList,
      runs,
      calls: receiver.calls(),
      strictRepeats: opts.strictRepeats,
    });
    passed = checks.every((c) => c.ok || c.severity === "warn");
    console.log("\nChecks:");
    for (const c of checks) {
      const mark = c.ok ? "PASS" : c.severity === "warn" ? "WARN" : "FAIL";
      console.log(`  ${mark}  ${c.name}: ${c.summary}`);
      for (const example of c.examples) console.log(`          ${example}`);
    }
    const stuckRuns = runs.filter(
      (r) => (r.status === "running" || r.status === "waiting") && r.assetId?.startsWith("crash-r-"),
    );
    if (stuckRuns.length > 0) {
      const early = stuckRuns.filter((r) => beforeKill.has(r.assetId ?? "")).length;
      console.log(
        `\nOf the ${stuckRuns.length} act-wait-act runs not ended, ${early} had their awaited event accepted ` +
          `before the kill, ${stuckRuns.length - early} after the restart.`,
      );
    }
    const stuck = runs.filter((r) => r.status === "running" || r.status === "waiting").length;
    console.log(
      `\n${passed ? "PASS" : "FAIL"}: ${opts.runs} act-wait-act runs and ${opts.timeouts} timeout runs, SIGKILL once ` +
        `${opts.killAfter} awaited deliveries were accepted and ${opts.killResumed} runs resumed ` +
        `(${acceptedBeforeKill} accepted, ${secondBefore} resumed by then), cron driven ${step * opts.stepMinutes} min ahead; ` +
        `${stuck} of ${runs.length} runs not ended (${statusLine(runs)}).`,
    );
    return passed;
  } finally {
    await cleanUp();
    if (passed && !opts.keep) await rm(dir, { recursive: true, force: true });
    else console.log(`State and wrangler log kept in ${dir}`);
  }

  function countPrefix(prefix: string): number {
    return receiver.calls().filter((c) => c.path.startsWith(prefix)).length;
  }
}

const opts = options();
if (opts.help) {
  console.log(HELP);
} else {
  main(opts)
    .then((passed) => {
      process.exitCode = passed ? 0 : 1;
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 2;
    });
}
