/**
 * Bundling our Worker for the consumer and resume benchmarks, from the working tree or
 * from a snapshot of a commit (`--rev`, for when the working tree is being edited), and
 * optionally with bench/workers/profiled.js as the entry point (`--profile`).
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ROOT, type WorkerOptions } from "./runtime";

const run = promisify(execFile);
export const PROFILED_ENTRY = "bench/workers/profiled.js";

/**
 * `wrangler deploy --dry-run` in `root` into `outDir` (entry: wrangler.toml's main, or
 * `entry`), and the Miniflare options of root's wrangler.toml, as projectWorkerOptions does.
 */
export async function bundleWorker(root: string, outDir: string, entry?: string): Promise<WorkerOptions> {
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wranglerCli = join(dirname(wranglerPackage), "bin", "wrangler.js");
  const args = [wranglerCli, "deploy", ...(entry ? [entry] : []), "--dry-run", "--outdir", outDir];
  await run(process.execPath, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`wrangler deploy --dry-run ${entry ?? ""} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  });
  const { modulesRules: _, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml"))
    .workerOptions as WorkerOptions;
  const script = entry
    ? `${entry
        .split("/")
        .at(-1)
        ?.replace(/\.[cm]?[jt]s$/, "")}.js`
    : "index.js";
  return { ...workerOptions, rootPath: outDir, scriptPath: join(outDir, script), modules: true };
}

/**
 * The tree of `rev` (git archive) in `dir`, with the working tree's node_modules linked
 * in and bench/workers/profiled.js copied in. Returns the full commit id.
 */
export async function snapshotRevision(rev: string, dir: string): Promise<string> {
  const commit = (await run("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: ROOT })).stdout.trim();
  await mkdir(dir, { recursive: true });
  await run("sh", ["-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", commit, dir], { cwd: ROOT });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  await mkdir(join(dir, "bench", "workers"), { recursive: true });
  await copyFile(join(ROOT, PROFILED_ENTRY), join(dir, PROFILED_ENTRY));
  return commit;
}
