/**
 * The server half of `npm run dev` (scripts/dev.sh installs, migrates and prints the
 * banner first): runs `wrangler dev` on 127.0.0.1:PORT and fires the cron every minute,
 * on the minute, as Cloudflare does in production; `wrangler dev` never fires it by
 * itself. Wrangler's output passes through DevOutputFilter (expected repeats dropped).
 * The first cron call that succeeds is printed, later ones only when they fail.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CRON_PATH, DevOutputFilter } from "./dev-output";
import { localBaseUrl } from "./local-url";

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`error: INSPECTOR_PORT must be a port number from 1 to 65535 (got "${value}")`);
    process.exit(2);
  }
  return port;
}

const base = localBaseUrl(process.env.PORT);
const cronUrl = `${base}${CRON_PATH}?cron=${encodeURIComponent("* * * * *")}`;

// INSPECTOR_PORT moves wrangler's Node inspector (default 9229, or the next free port).
const inspector = process.env.INSPECTOR_PORT
  ? ["--inspector-port", String(portNumber(process.env.INSPECTOR_PORT))]
  : [];
const wrangler = spawn(
  "wrangler",
  ["dev", "--local", "--ip", "127.0.0.1", "--port", new URL(base).port, ...inspector],
  {
    stdio: ["inherit", "pipe", "pipe"],
    // Output goes through a pipe: keep wrangler's colours when this terminal has them.
    env: process.stdout.isTTY ? { ...process.env, FORCE_COLOR: "1" } : process.env,
  },
);

let ready = false;
let cronFired = false;
for (const [stream, out] of [
  [wrangler.stdout, process.stdout],
  [wrangler.stderr, process.stderr],
] as const) {
  const filter = new DevOutputFilter();
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    if (line.includes("Ready on http")) ready = true;
    for (const kept of filter.push(line)) out.write(`${kept}\n`);
  });
  lines.on("close", () => {
    for (const kept of filter.flush()) out.write(`${kept}\n`);
  });
}

async function fireCron(): Promise<void> {
  if (!ready) return;
  try {
    const res = await fetch(cronUrl);
    if (!res.ok) {
      console.error(`cron: GET ${CRON_PATH} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    } else if (!cronFired) {
      cronFired = true;
      console.log(`cron: fired at ${new Date().toISOString()}; it fires every minute, silently unless it fails`);
    }
  } catch (err) {
    console.error(`cron: could not reach ${base}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Schedules the next call at the start of the next minute, then again every minute. */
function scheduleCron(): NodeJS.Timeout {
  return setTimeout(
    () => {
      void fireCron();
      timer = scheduleCron();
    },
    60_000 - (Date.now() % 60_000),
  );
}
let timer = scheduleCron();

// Ctrl-C reaches wrangler too (same process group); wait for it to finish, then leave with its code.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    clearTimeout(timer);
    wrangler.kill(signal);
  });
}
wrangler.on("exit", (code, signal) => {
  clearTimeout(timer);
  process.exitCode = code ?? (signal ? 1 : 0);
});
