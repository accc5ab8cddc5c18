/**
 * `npm run sim`: the seeded fault simulator (test/sim) in workerd, through vitest.
 * With --rev, the same harness runs against another revision's engine (a temporary git
 * worktree of it, this checkout's test/sim copied in), to show what it finds there.
 * Prints each seed's verdict, the violations and fault plan of a failing seed with its
 * replay command, and a summary (schedules, faults injected, invariant checks).
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { intOption, parseCli, printedHelp, runCli } from "../cli/args";

const HELP = `Usage: npm run sim [-- --seeds N [--first F] | --seed S] [--faults kind,kind] [--plain] [--rev REV]

Runs the engine's seeded fault simulator (test/sim) in workerd: per seed, generated Okta
deliveries and faults, then the invariants (test/sim/README.md) against an oracle.
Without --seeds or --seed it runs the CI cases (as npm test does).

  --seeds N      run seeds F..F+N-1
  --first F      the first seed of the range (default 1)
  --seed S       run one seed (what a failing seed's replay line says)
  --faults LIST  draw faults only of these kinds, e.g. send-fail,waitroom (test/sim/fault-plan.ts)
  --plain        no cross-source or same-millisecond events in the schedule
  --rev REV      run against another revision's src/ and migrations/ (e.g. --rev 5cec95e)
  -h, --help     this text`;

const repo = resolve(import.meta.dirname, "../..");
const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, capture = false) =>
  new Promise<{ code: number; out: string }>((done) => {
    const child = spawn(cmd, args, { cwd, env, stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit" });
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("close", (code) => done({ code: code ?? 1, out }));
  });

/** A worktree of REV with this checkout's simulator in it; REV's src/ and migrations/ are what runs. */
async function revWorktree(rev: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sim-rev-"));
  const added = await run("git", ["worktree", "add", "--detach", dir, rev], repo, process.env, true);
  if (added.code !== 0) throw new Error(`git worktree add ${rev}: ${added.out}`);
  // This checkout's simulator replaces whatever test/sim the revision has.
  await rm(join(dir, "test/sim"), { recursive: true, force: true });
  await cp(join(repo, "test/sim"), join(dir, "test/sim"), { recursive: true });
  await symlink(join(repo, "node_modules"), join(dir, "node_modules"));
  // Another revision's vitest.config.ts may not pass the SIM_* variables into workerd: add those missing.
  const config = join(dir, "vitest.config.ts");
  const text = await readFile(config, "utf8");
  const missing = ["SIM_SEED", "SIM_SEEDS", "SIM_FIRST", "SIM_FAULTS", "SIM_PLAIN"].filter(
    (name) => !new RegExp(`\\b${name}\\b`).test(text),
  );
  if (missing.length > 0) {
    const vars = missing.map((name) => `${name}: process.env.${name} ?? "",`).join(" ");
    await writeFile(config, text.replace("bindings: {", `bindings: { ${vars}`));
  }
  return dir;
}

runCli(HELP, async (argv) => {
  const { values } = parseCli(argv, {
    seeds: { type: "string" },
    first: { type: "string" },
    seed: { type: "string" },
    faults: { type: "string" },
    plain: { type: "boolean" },
    rev: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const seeds = values.seeds === undefined ? "" : String(intOption(values.seeds, "seeds", 0));
  const first = values.first === undefined ? "" : String(intOption(values.first, "first", 1, { min: 0 }));
  const seed = values.seed === undefined ? "" : String(intOption(values.seed, "seed", 0, { min: 0 }));

  const cwd = values.rev ? await revWorktree(values.rev) : repo;
  if (values.rev) console.log(`Simulating revision ${values.rev} (checked out in ${cwd})`);
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    SIM_SEED: seed,
    SIM_SEEDS: seeds,
    SIM_FIRST: first,
    SIM_FAULTS: values.faults ?? "",
    SIM_PLAIN: values.plain ? "1" : "",
  };
  const started = Date.now();
  const result = await run("npx", ["vitest", "run", "test/sim/sim.test.ts"], cwd, env, true);
  if (values.rev) {
    await run("git", ["worktree", "remove", "--force", cwd], repo, process.env, true);
    await rm(cwd, { recursive: true, force: true });
  }

  // biome-ignore lint/suspicious/noControlCharactersInRegex: vitest colours its console lines
  const ansi = /\u001b\[[0-9;]*m/g;
  const lines = result.out
    .split("\n")
    .map((line) => line.replace(ansi, ""))
    .filter((line) => line.startsWith("SIM "));
  let failed = 0;
  for (const line of lines) {
    if (line.startsWith("SIM SEED")) {
      const [verdict, replay = ""] = line.slice(4).split(" | ");
      console.log(verdict);
      if (verdict?.split(" ")[2] === "FAIL") {
        failed += 1;
        console.log(`  ${replay}${values.rev ? ` --rev ${values.rev}` : ""}`);
      }
    } else if (line.startsWith("SIM VIOLATION")) console.log(`  ${line.slice(14)}`);
    else if (line.startsWith("SIM PLAN")) console.log(`  faults: ${line.slice(9)}`);
    else if (line.startsWith("SIM SUMMARY"))
      console.log(`${line.slice(4)} wall=${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  if (!lines.some((line) => line.startsWith("SIM SUMMARY"))) {
    // vitest failed before the simulator ran (a type or import error on that revision): show why.
    console.log(result.out.split("\n").slice(-60).join("\n"));
    return 1;
  }
  return failed > 0 || result.code !== 0 ? 1 : 0;
});
