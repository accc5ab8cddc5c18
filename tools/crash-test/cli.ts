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
import { runCli } from "../cli/args";
import { AdminApi } from "./admin-api";
import { driveCron } from "./cron";
import { send, sendAll } from "./okta-sender";
import { HELP, type Options, options } from "./options";
import { startActionReceiver } from "./receiver";
import { plans, RESUME_PREFIX, scenario, workflows } from "./scenario";
import { allAtTheirEnd, judge, type RunView } from "./verdict";
import { applyLocalMigrations, type DevServer, snapshotProject, startDev } from "./wrangler-dev";

const HOOK_SECRET = "crash-test-hook-secret";
const ADMIN_TOKEN = "crash-test-admin-token";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

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
  console.log(`State, env file, project copy and wrangler log in ${dir}`);
  const projectDir = await snapshotProject(join(dir, "project"));
  const devOptions = { projectDir, port: opts.port, inspectorPort: opts.port + 2, persistTo, envFile, logFile };
  const receiver = await startActionReceiver(opts.port + 1);
  let dev: DevServer | undefined;
  const admin = new AdminApi(() => dev?.url ?? "", ADMIN_TOKEN);
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
    await applyLocalMigrations(projectDir, persistTo);
    dev = await startDev(devOptions);
    console.log(`wrangler dev on ${dev.url} (migrated and started in ${seconds(t)}); receiver on ${receiver.url}`);
    for (const w of workflows(receiver.url, opts.timeoutSeconds)) await admin.call("POST", "/api/workflows", w);

    // Phase 1: the triggers; every run acts once and pauses.
    const sent = scenario(opts.runs, opts.timeouts);
    const { triggers, awaited } = sent;
    t = Date.now();
    await sendAll(dev.url, HOOK_SECRET, triggers, opts.concurrency);
    const rejected = triggers.filter((d) => !d.accepted);
    if (rejected.length > 0) await sendAll(dev.url, HOOK_SECRET, rejected, opts.concurrency);
    console.log(
      `Phase 1: ${triggers.length} trigger deliveries, ${triggers.filter((d) => d.accepted).length} accepted (${seconds(t)})`,
    );
    const paused = Date.now();
    for (;;) {
      const runs = await admin.runs();
      const waiting = runs.filter((r) => r.status === "waiting" && r.assetId?.startsWith(RESUME_PREFIX)).length;
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
    const planList = plans(sent);

    // Phase 4: drive the cron's clock forward until every run is at its end, or the deadline.
    const clockStart = Date.now();
    let runs: RunView[] = [];
    const minutesAhead = await driveCron(dev.url, opts, async (ahead) => {
      runs = await admin.runs();
      console.log(
        `  cron +${ahead} min (real ${seconds(clockStart)}): ${statusLine(runs)}; action calls ${receiver.calls().length}`,
      );
      return allAtTheirEnd(planList, runs);
    });

    // Phase 5: judge from the public API and the receiver.
    await sleep(2_000);
    runs = await admin.runs();
    const events = await admin.events();
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
      (r) => (r.status === "running" || r.status === "waiting") && r.assetId?.startsWith(RESUME_PREFIX),
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
        `(${acceptedBeforeKill} accepted, ${secondBefore} resumed by then), cron driven ${minutesAhead} min ahead; ` +
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

runCli(HELP, async (argv) => {
  const opts = options(argv);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  return (await main(opts)) ? 0 : 1;
});
