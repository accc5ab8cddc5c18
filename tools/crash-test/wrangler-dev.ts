/**
 * `wrangler dev --local` as the crash test needs it: its own process group (so one
 * SIGKILL takes wrangler, its workerd processes and npx down together), its own port,
 * local state in a given folder, secrets from a given env file (never the user's
 * .dev.vars), and the cron reachable through /cdn-cgi/local/scheduled. It runs a copy
 * of the project taken at the start: `wrangler dev` reloads the Worker whenever a
 * source file changes, which would drop in-flight invocations and the local queue's
 * pending retries and fail the test for a reason that is not a crash.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { cp, mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Telemetry and cf.json look-ups off (this network cannot reach them); no colour in the logs. */
const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  // --env-file is read only when loading secrets from .env-style files is on (the default).
  CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true",
  FORCE_COLOR: "0",
  CI: "true",
};

export interface DevOptions {
  /** The project copy (snapshotProject) that wrangler dev runs in. */
  projectDir: string;
  port: number;
  inspectorPort: number;
  persistTo: string;
  envFile: string;
  /** wrangler's stdout and stderr are appended here. */
  logFile: string;
}

export interface DevServer {
  url: string;
  /** SIGKILL to the whole process group, as a crash would; resolves once the group leader has exited. */
  kill(): Promise<void>;
  /** SIGTERM to the group, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** `wrangler d1 migrations apply DB --local --persist-to <persistTo>`, through npx so Node 22 runs it. */
export async function applyLocalMigrations(projectDir: string, persistTo: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "npx",
    ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    { cwd: projectDir, env: { ...process.env, ...WRANGLER_ENV }, maxBuffer: 8 * 1024 * 1024 },
  );
  return stdout;
}

/** What `wrangler dev` reads of the project; node_modules is linked, not copied. */
const PROJECT_FILES = ["src", "examples", "migrations", "public", "wrangler.toml", "package.json", "tsconfig.json"];

/** Copies the project as it is now into `dir` (see the file comment); resolves to the copy's root. */
export async function snapshotProject(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const file of PROJECT_FILES) await cp(join(ROOT, file), join(dir, file), { recursive: true });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** Starts wrangler dev and resolves when it answers HTTP; throws with the log's tail if it exits or stalls. */
export async function startDev(options: DevOptions, readyTimeoutMs = 120_000): Promise<DevServer> {
  const log = openSync(options.logFile, "a");
  const args = [
    "wrangler",
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--inspector-port",
    String(options.inspectorPort),
    "--persist-to",
    options.persistTo,
    "--env-file",
    options.envFile,
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    // Worker logs too: the log file is what a failed run leaves to read.
    "--log-level",
    "log",
  ];
  // detached: the child leads a new process group, which kill() signals as a whole.
  const child = spawn("npx", args, {
    cwd: options.projectDir,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...WRANGLER_ENV },
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const url = `http://127.0.0.1:${options.port}`;
  const server: DevServer = {
    url,
    kill: () => signalGroup(child, "SIGKILL", exited),
    async stop() {
      if (hasExited) return;
      await signalGroup(child, "SIGTERM", exited, 10_000);
      if (!hasExited) await signalGroup(child, "SIGKILL", exited);
    },
  };
  const started = Date.now();
  for (;;) {
    if (hasExited) throw new Error(`wrangler dev exited before it was ready:\n${await tail(options.logFile)}`);
    const ok = await fetch(`${url}/api/openapi.json`, { signal: AbortSignal.timeout(2_000) })
      .then((res) => res.ok)
      .catch(() => false);
    if (ok) return server;
    if (Date.now() - started > readyTimeoutMs) {
      await server.kill();
      throw new Error(`wrangler dev did not answer within ${readyTimeoutMs / 1000} s:\n${await tail(options.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function signalGroup(
  child: ChildProcess,
  signal: NodeJS.Signals,
  exited: Promise<unknown>,
  waitMs = 15_000,
): Promise<void> {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, waitMs))]);
}

async function tail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-lines).join("\n");
}
