/**
 * The commands `okta:hook -- rotate` prints are pasted into a shell, where the secrets the
 * tool read from .dev.vars are not set. Each printed command is run here in bash with fake
 * `npx` and `npm` on PATH that record what they got: without the shell variable a command
 * must stop loudly before anything is stored; with it, it stores the right values.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROTATE_FINISH_COMMANDS, runHookCommand } from "../../tools/okta-hook/command";
import { capture } from "./support";

const dir = mkdtempSync(join(tmpdir(), "rotate-"));
const log = join(dir, "calls.log");
// Records argv, stdin and the two secrets' environment, one JSON line per call.
const recorder = `#!/bin/sh
node -e 'const fs = require("node:fs"); fs.appendFileSync(process.env.CALLS_LOG, JSON.stringify({ cmd: process.argv.slice(1), stdin: fs.readFileSync(0, "utf8"), secret: process.env.OKTA_HOOK_SECRET ?? null, previous: process.env.OKTA_HOOK_SECRET_PREVIOUS ?? null }) + "\\n")' "$(basename "$0")" "$@"
`;
for (const name of ["npx", "npm"]) {
  writeFileSync(join(dir, name), recorder);
  chmodSync(join(dir, name), 0o755);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Call {
  cmd: string[];
  stdin: string;
  secret: string | null;
  previous: string | null;
}

/** Runs one pasted line in bash with only PATH (fakes first) and `shellVars` set; returns its exit and the calls. */
function paste(line: string, shellVars: Record<string, string> = {}) {
  writeFileSync(log, "");
  const result = spawnSync("bash", ["-c", line], {
    // HOME is the scratch directory: no ~/.bashrc of the machine's runs (bash reads it when stdin is a socket).
    env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, CALLS_LOG: log, ...shellVars },
    input: "",
    encoding: "utf8",
  });
  const calls = readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((text) => JSON.parse(text) as Call);
  return { status: result.status, stderr: result.stderr, calls };
}

/** The lines of a printout a reader pastes: indented, running npx or npm. */
const commandLines = (output: string) =>
  output
    .split("\n")
    .filter((line) => line.startsWith("  ") && /(^|\s)(npx|npm) /.test(line))
    .map((line) => line.trim())
    .map((line) => line.replace(/\s{2,}\(.*\)$/, ""));

// The tool's own env, as it reads it from .dev.vars: the current secret is known to it, not to the shell.
const toolEnv = {
  OKTA_ORG_URL: "https://example.okta.com",
  OKTA_API_TOKEN: "unused",
  OKTA_HOOK_URL: "https://worker.example.com/hooks/okta",
  OKTA_HOOK_SECRET: "current-secret",
};

describe("rotate begin: the printed commands", async () => {
  const { code, output } = await capture((out) => runHookCommand(["rotate", "begin"], toolEnv, out));
  const next = /New secret: ([\w-]{43})/.exec(output)?.[1] ?? "";
  const lines = commandLines(output);

  it("are printed", () => {
    expect(code).toBe(0);
    expect(next).not.toBe("");
    expect(lines.some((line) => line.includes("secret put OKTA_HOOK_SECRET_PREVIOUS"))).toBe(true);
    expect(lines.some((line) => line.includes("rotate switch"))).toBe(true);
  });

  it("stop loudly, storing nothing, in a shell where OKTA_HOOK_SECRET is unset", () => {
    for (const line of lines.filter((l) => !l.includes(next) || l.includes("rotate switch"))) {
      const run = paste(line);
      expect(run.status, line).not.toBe(0);
      expect(run.stderr, line).toContain("OKTA_HOOK_SECRET");
      expect(run.calls, line).toEqual([]);
    }
  });

  it("store the current secret as the previous one and the new one as current, once it is set", () => {
    const shell = { OKTA_HOOK_SECRET: "current-secret" };
    const calls = lines.flatMap((line) => {
      const run = paste(line, shell);
      expect(run.status, `${line}\n${run.stderr}`).toBe(0);
      return run.calls;
    });
    const put = (name: string) =>
      calls.find((call) => call.cmd.join(" ") === `npx wrangler secret put ${name}`)?.stdin ?? null;
    expect(put("OKTA_HOOK_SECRET_PREVIOUS")).toBe("current-secret");
    expect(put("OKTA_HOOK_SECRET")).toBe(next);
    const switchCall = calls.find((call) => call.cmd.includes("switch"));
    expect(switchCall).toMatchObject({ secret: next, previous: "current-secret" });
  });
});

describe("rotate switch: the printed step 3", () => {
  const lines = commandLines(ROTATE_FINISH_COMMANDS);

  it("refuses to check a placeholder instead of the old secret", () => {
    const finish = lines.find((line) => line.includes("rotate finish")) ?? "";
    const run = paste(finish);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("OKTA_HOOK_SECRET_PREVIOUS");
    expect(run.calls).toEqual([]);
    expect(paste(finish, { OKTA_HOOK_SECRET_PREVIOUS: "old-secret" }).calls).toMatchObject([
      { previous: "old-secret" },
    ]);
  });
});
