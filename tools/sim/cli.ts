/**
 * `npm run sim`: the seeded fault simulator (test/sim) in workerd, through vitest.
 *   --seeds N        seeds 1..N (or --first F .. F+N-1); without it the CI seeds
 *   --seed S         one seed (prints everything it found)
 *   --faults a,b     draw faults only of these kinds (test/sim/fault-plan.ts)
 *   --plain          no cross-source or same-millisecond events: only the faults can break a run
 *   --rev REV        run against REV's src/ and migrations/ in a temporary git worktree (old code)
 * Prints each seed's verdict, the violations, a replay command per failing seed and a summary.
 */
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const USAGE = `usage: npm run sim -- [--seeds N [--first F] | --seed S] [--faults kind,kind] [--plain] [--rev REV]
  --seeds N      run seeds F..F+N-1 (default F = 1); without --seeds or --seed: the CI seeds
  --seed S       run one seed
  --faults LIST  draw faults only of these kinds, e.g. send-fail,waitroom (see test/sim/fault-plan.ts)
  --plain        no cross-source or same-millisecond events in the schedule
  --rev REV      run against another revision's src/ and migrations/ (e.g. --rev 5cec95e)
  --help         this text`;

let values: ReturnType<typeof parse>["values"];
function parse() {
  return parseArgs({
    strict: true,
    options: {
      seeds: { type: "string" },
      first: { type: "string" },
      seed: { type: "string" },
      faults: { type: "string" },
      plain: { type: "boolean", default: false },
      rev: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
}
try {
  values = parse().values;
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const isCount = (v: string | undefined) => v === undefined || /^\d+$/.test(v);
if (!isCount(values.seeds) || !isCount(values.seed) || !isCount(values.first)) {
  console.error(`--seeds, --first and --seed take whole numbers\n${USAGE}`);
  process.exit(2);
}

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
    (name) => !text.includes(name),
  );
  if (missing.length > 0) {
    const vars = missing.map((name) => `${name}: process.env.${name} ?? "",`).join(" ");
    await writeFile(config, text.replace("bindings: {", `bindings: { ${vars}`));
  }
  return dir;
}

const cwd = values.rev ? await revWorktree(values.rev) : repo;
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  SIM_SEED: values.seed ?? "",
  SIM_SEEDS: values.seeds ?? "",
  SIM_FIRST: values.first ?? "",
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
  process.exit(1);
}
process.exit(failed > 0 || result.code !== 0 ? 1 : 0);
