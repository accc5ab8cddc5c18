/**
 * Starts the real local service for the browser suite: `wrangler dev` (local D1,
 * Queues, Durable Objects, static assets) on a free port, with its own fresh state
 * folder and test secrets, migrated first. Node-side; never imported by the Worker.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import { DevOutputFilter } from "../../tools/dev-output";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const ADMIN_TOKEN = "browser-admin-token";
export const HOOK_SECRET = "browser-hook-secret";

const run = promisify(execFile);
const quiet = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface LocalService {
  url: string;
  stop(): Promise<void>;
}

/**
 * Copies wrangler's output through the filter `npm run dev` uses, so the suite shows
 * wrangler's errors but not its expected warning that the cron is not triggered.
 */
function passOn(from: Readable | null, to: Writable): void {
  if (!from) return;
  const filter = new DevOutputFilter();
  const lines = createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (line) => {
    for (const out of filter.push(line)) to.write(`${out}\n`);
  });
  lines.on("close", () => {
    for (const out of filter.flush()) to.write(`${out}\n`);
  });
}

/** `secrets` overrides the hook secrets (the Okta tools' tests rotate them). */
export async function startLocalService(
  secrets: { current: string; previous: string } = { current: HOOK_SECRET, previous: "" },
): Promise<LocalService> {
  const dir = await mkdtemp(join(tmpdir(), "okta-dashboard-"));
  const envFile = join(dir, "test.env");
  await writeFile(
    envFile,
    `OKTA_HOOK_SECRET="${secrets.current}"\nOKTA_HOOK_SECRET_PREVIOUS="${secrets.previous}"\nADMIN_TOKEN="${ADMIN_TOKEN}"\n`,
  );
  const state = join(dir, "state");
  await run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    cwd: ROOT,
    env: quiet,
  });
  const port = await freePort();
  const child: ChildProcess = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--env-file",
      envFile,
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, env: quiet, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  passOn(child.stdout, process.stdout);
  passOn(child.stderr, process.stderr);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/login`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error("wrangler dev did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return {
    url,
    async stop() {
      // wrangler dev starts workerd children: end the whole process group it leads.
      if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 500));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
