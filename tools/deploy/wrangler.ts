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
    const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-6).join("\n");
    super(`\`wrangler ${args.join(" ")}\` failed (exit ${result.code}):\n${said}`);
  }
}
