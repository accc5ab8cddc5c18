/**
 * `npm run sim`: the seeded fault simulator (test/sim) over a range of seeds, or one.
 * With --rev, the same harness runs against another revision's engine (a temporary
 * git worktree of it), to show what the simulator finds there.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { intOption, parseCli, printedHelp, runCli } from "../cli/args";

const HELP = `Usage: npm run sim [-- --seeds N] [-- --first F] [-- --seed S] [-- --rev REV]

Runs the engine's seeded fault simulator (test/sim) in workerd: per seed, generated Okta
deliveries and faults, then the invariants of docs/architecture.md against an oracle.
Prints each seed's verdict, the violations of a failing seed with its replay command,
and a SIM line with the schedules, faults injected and invariant checks made.

  --seeds N   how many seeds (default 8, as in npm test), from --first (default 1)
  --first F   the first seed of the range
  --seed S    only seed S (what a failing seed's replay line says)
  --rev REV   run the same simulator against revision REV's engine (e.g. 5cec95e)
  -h, --help  this text`;

const ROOT = new URL("../../", import.meta.url).pathname;

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

/** Verdicts, violations, replay lines and the summary; the Worker's own log lines are the faults at work. */
const SHOWN = /^\s+[✓×] seed |seed \d+ broke|^\+?\s+"?- |^\+\s+"\[|replay: |^SIM |Tests\s/;

runCli(HELP, async (argv) => {
  const { values } = parseCli(argv, {
    seeds: { type: "string" },
    first: { type: "string" },
    seed: { type: "string" },
    rev: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const env = {
    ...process.env,
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_SEND_METRICS: "false",
    SIM_SEEDS: String(intOption(values.seeds, "seeds", 8)),
    SIM_FIRST_SEED: String(intOption(values.first, "first", 1, { min: 0 })),
    SIM_SEED: values.seed === undefined ? "" : String(intOption(values.seed, "seed", 0, { min: 0 })),
  };
  const cwd = values.rev ? checkoutOf(values.rev) : ROOT;
  if (values.rev) console.log(`Simulating revision ${values.rev} (checked out in ${cwd})`);
  const child = spawn("npx", ["vitest", "run", "test/sim"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let rest = "";
  const show = (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (SHOWN.test(line)) console.log(line);
  };
  child.stdout.on("data", show);
  child.stderr.on("data", show);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  if (values.rev) {
    execFileSync("git", ["-C", ROOT, "worktree", "remove", "--force", cwd], { stdio: "ignore" });
    rmSync(cwd, { recursive: true, force: true });
  }
  return code;
});
