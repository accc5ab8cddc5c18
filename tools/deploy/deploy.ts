/**
 * `npm run deploy`: applies the D1 migrations to the remote database, then deploys the
 * Worker, then prints the hook URL and what to do on Okta's side. The URL comes from
 * wrangler's machine-readable output file (WRANGLER_OUTPUT_FILE_PATH), not its prose.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCli, printedHelp, runCli } from "../cli/args";
import { PLACEHOLDER_DATABASE_ID, readProjectConfig } from "./config";
import { LOGIN_HINT, WranglerError, wranglerOk } from "./wrangler";

const HELP = `Deploys the Worker: applies the D1 migrations --remote, runs wrangler deploy, prints the hook URL.

Usage: npm run deploy [-- --help]

Run npm run setup:cloudflare first (it creates the database and sets the secrets).
  -h, --help   this text`;

/** The URLs `wrangler deploy` reported in its output file ("targets" of the "deploy" entry). */
function deployedUrls(ndjson: string): string[] {
  const urls: string[] = [];
  for (const line of ndjson.split("\n")) {
    if (!line.trim()) continue;
    const entry: unknown = JSON.parse(line);
    if (typeof entry !== "object" || entry === null || !("type" in entry) || entry.type !== "deploy") continue;
    if ("targets" in entry && Array.isArray(entry.targets)) {
      for (const target of entry.targets) if (typeof target === "string") urls.push(target);
    }
  }
  return urls;
}

function nextSteps(base: string, authHeader: string): string {
  return `
Deployed. The hook URL:

    ${base}/hooks/okta

Health: ${base}/healthz (no auth) · status: ${base}/api/status (admin token) · dashboard: ${base}/

In Okta's Admin Console:
  1. Workflow → Event Hooks → Create Event Hook.
  2. Endpoint URL: ${base}/hooks/okta
  3. Authentication field: ${authHeader}
     Authentication secret: the value of OKTA_HOOK_SECRET (npm run setup:cloudflare set it;
     if it generated one, it printed it then).
  4. Subscribe to the System Category events your workflows use, save, then choose Verify.
     Okta's GET challenge is answered by the Worker; Verify turns the hook Active.
  5. Watch deliveries arrive: npx wrangler tail --format json
`;
}

async function main(): Promise<void> {
  const config = readProjectConfig(readFileSync("wrangler.toml", "utf8"));
  if (config.database.id === PLACEHOLDER_DATABASE_ID) {
    throw new Error("wrangler.toml still has the placeholder database_id: run `npm run setup:cloudflare` first");
  }
  console.log(`• applying D1 migrations to ${config.database.name} (remote)`);
  await wranglerOk(["d1", "migrations", "apply", config.database.binding, "--remote"], { show: true });

  console.log(`• deploying ${config.workerName}`);
  const dir = mkdtempSync(join(tmpdir(), "deploy-"));
  const outputFile = join(dir, "wrangler-output.ndjson");
  try {
    await wranglerOk(["deploy"], { show: true, env: { WRANGLER_OUTPUT_FILE_PATH: outputFile } });
    const urls = deployedUrls(readFileSync(outputFile, "utf8"));
    const base = urls.find((url) => url.endsWith(".workers.dev")) ?? urls[0];
    if (!base) {
      console.log("\nDeployed, but wrangler reported no URL (workers_dev off?): the hook is <your route>/hooks/okta.");
      return;
    }
    console.log(nextSteps(base.replace(/\/+$/, ""), config.vars.OKTA_AUTH_HEADER || "Authorization"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runCli(
  HELP,
  async (argv) => {
    if (printedHelp(parseCli(argv, {}).values, HELP)) return;
    await main();
  },
  (err) => {
    console.error(`\ndeploy stopped: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof WranglerError && err.needsLogin) console.error(`\n${LOGIN_HINT}`);
  },
);
