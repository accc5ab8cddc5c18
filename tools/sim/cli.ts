/**
 * `npm run sim`: the seeded fault simulator (test/sim) over a range of seeds, or one.
 * With --rev, the same harness runs against another revision's engine (a temporary
 * git worktree of it), to show what the simulator finds there.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const HELP = `Usage: npm run sim [-- --seeds N] [-- --first F] [-- --seed S] [-- --rev REV]

Runs the engine's seeded fault simulator (test/sim) in workerd: per seed, generated Okta
deliveries and faults, then the invariants of docs/architecture.md against an oracle.

  --seeds N   how many seeds (default 8, as in npm test), from --first (default 1)
  --seed S    only seed S (what a failing seed's replay line says)
  --rev REV   run the same simulator against revision REV's engine (e.g. 5cec95e)
  --help      this text`;

const ROOT = new URL("../../", import.meta.url).pathname;

function usage(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

function wholeNumber(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) usage(`--${name} must be a whole number, not ${JSON.stringify(value)}`);
  return value;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      seeds: { type: "string" },
      first: { type: "string" },
      seed: { type: "string" },
      rev: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
}
try {
  parsed = parse();
} catch (err) {
  usage((err as Error).message);
}
const { values } = parsed;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const env = {
  ...process.env,
  SIM_SEEDS: wholeNumber("seeds", values.seeds) ?? "8",
  SIM_FIRST_SEED: wholeNumber("first", values.first) ?? "1",
  SIM_SEED: wholeNumber("seed", values.seed) ?? "",
  WRANGLER_SEND_METRICS: "false",
};

/** A checkout of `rev` with this simulator (and the config that passes it seeds) copied in. */
function checkoutOf(rev: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sim-rev-"));
  execFileSync("git", ["-C", ROOT, "worktree", "add", "--detach", dir, rev], { stdio: "ignore" });
  cpSync(join(ROOT, "test/sim"), join(dir, "test/sim"), { recursive: true });
  cpSync(join(ROOT, "vitest.config.ts"), join(dir, "vitest.config.ts"));
  cpSync(join(ROOT, "test/env.d.ts"), join(dir, "test/env.d.ts"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

const cwd = values.rev ? checkoutOf(values.rev) : ROOT;
if (values.rev) console.log(`Simulating revision ${values.rev} (checked out in ${cwd})`);
const child = spawn("npx", ["vitest", "run", "test/sim"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
let buffered = "";
const show = (chunk: Buffer) => {
  buffered += chunk.toString();
  const lines = buffered.split("\n");
  buffered = lines.pop() ?? "";
  for (const raw of lines) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
    // The Worker's own log lines are the faults at work; show verdicts, violations and the summary.
    if (/^\s+[✓×] seed |seed \d+ broke|^\s+- |^replay: |^SIM |Tests\s/.test(line)) console.log(line);
  }
};
child.stdout.on("data", show);
child.stderr.on("data", show);
child.on("close", (code) => {
  if (values.rev) {
    execFileSync("git", ["-C", ROOT, "worktree", "remove", "--force", cwd], { stdio: "ignore" });
    rmSync(cwd, { recursive: true, force: true });
  }
  process.exit(code ?? 1);
});
