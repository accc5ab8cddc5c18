/**
 * Calls the `wrangler` on PATH (npm scripts put the project's own first; the tests put
 * a stand-in there) and hands back what it printed. Nothing here knows a command.
 */
import { spawn } from "node:child_process";

export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface WranglerOptions {
  /** Written to wrangler's stdin (a secret's value); stdin is closed either way, so wrangler never prompts. */
  input?: string;
  /** Stream wrangler's output to the terminal as well (long commands: migrations, deploy). */
  show?: boolean;
  env?: Record<string, string>;
}

export function wrangler(args: string[], options: WranglerOptions = {}): Promise<WranglerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrangler", args, {
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      if (options.show) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      if (options.show) process.stderr.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A wrangler call that must succeed; otherwise the error says which command and what wrangler said. */
export async function wranglerOk(args: string[], options: WranglerOptions = {}): Promise<string> {
  const result = await wrangler(args, options);
  if (result.code !== 0) throw new WranglerError(args, result);
  return result.stdout;
}

export class WranglerError extends Error {
  constructor(
    readonly args: string[],
    readonly result: WranglerResult,
  ) {
    super(`\`wrangler ${args.join(" ")}\` failed (exit ${result.code}):\n${wranglerSaid(result)}`);
  }

  /** Whether wrangler stopped for want of credentials (not logged in, no or a bad CLOUDFLARE_API_TOKEN). */
  get needsLogin(): boolean {
    return NEEDS_LOGIN.test(`${this.result.stderr}\n${this.result.stdout}`);
  }
}

const NEEDS_LOGIN =
  /CLOUDFLARE_API_TOKEN|wrangler login|not logged in|Authentication error|Invalid access token|\[code: (10000|9106|9109)\]/i;

/**
 * What wrangler said, whole: its reason is often several lines before its closing
 * boilerplate (the log file, "report a bug"), and the line that tells the user what to
 * do (log in, set CLOUDFLARE_API_TOKEN) must not be cut. Only blank lines and the banner go.
 */
export function wranglerSaid(result: WranglerResult): string {
  const text = result.stderr.trim() || result.stdout.trim();
  const lines = text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "" && !/^\s*⛅️ wrangler|^─+$/.test(line));
  const shown = lines.slice(0, 60);
  return [...shown, ...(lines.length > shown.length ? [`(… ${lines.length - shown.length} more lines)`] : [])]
    .map((line) => `  ${line}`)
    .join("\n");
}

/** The next step after wrangler refused for want of credentials. */
export const LOGIN_HINT = `Next step: log in to Cloudflare, then run this again:
  npx wrangler login                       (opens a browser; on this machine), or
  export CLOUDFLARE_API_TOKEN=<token>      (no browser, CI: a token from the dashboard's
                                            My Profile → API Tokens, "Edit Cloudflare Workers"
                                            template plus D1 Edit and Queues Edit)
  export CLOUDFLARE_ACCOUNT_ID=<id>        (when the token can see more than one account)
Check with: npx wrangler whoami`;
