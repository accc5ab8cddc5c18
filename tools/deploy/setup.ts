/**
 * `npm run setup:cloudflare`: makes the Cloudflare account ready for `npm run deploy`,
 * and can be run again at any time. It creates what is missing (the D1 database, the
 * queues of wrangler.toml, dead-letter queue included), writes the database's ID into
 * wrangler.toml, sets the secrets (from environment variables of the same name, else
 * asked for on a terminal, else generated where that makes sense), and ends with a list
 * of exactly what it changed. It reads state with wrangler's own commands and changes
 * nothing that is already right.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseCli, printedHelp, runCli } from "../cli/args";
import { readProjectConfig, secretNames, withDatabaseId } from "./config";
import { askSecret, generateSecret, interactive } from "./prompt";
import { LOGIN_HINT, WranglerError, wrangler, wranglerOk } from "./wrangler";

const HELP = `Makes the Cloudflare account ready for npm run deploy; safe to run again.

Usage: npm run setup:cloudflare [-- --help]

Creates what is missing (the D1 database of wrangler.toml, its queues), writes the
database ID into wrangler.toml, sets the secrets (from environment variables of the same
name, else asked on a terminal, else generated), and lists what it changed.
Needs a Cloudflare login: npx wrangler login, or CLOUDFLARE_API_TOKEN.
  -h, --help   this text`;

const CONFIG_PATH = "wrangler.toml";
const changes: string[] = [];
const notes: string[] = [];

function step(text: string): void {
  console.log(`• ${text}`);
}

/** `wrangler d1 list --json`: the account's databases. */
async function listDatabases(): Promise<Array<{ uuid: string; name: string }>> {
  const out = await wranglerOk(["d1", "list", "--json"]);
  const parsed: unknown = JSON.parse(out.slice(out.indexOf("[")));
  if (!Array.isArray(parsed)) throw new Error("`wrangler d1 list --json` did not print a list");
  return parsed.flatMap((db: unknown) =>
    typeof db === "object" && db !== null && "uuid" in db && "name" in db
      ? [{ uuid: String(db.uuid), name: String(db.name) }]
      : [],
  );
}

async function ensureDatabase(name: string): Promise<string> {
  const existing = (await listDatabases()).find((db) => db.name === name);
  if (existing) {
    step(`D1 database ${name} exists (${existing.uuid})`);
    return existing.uuid;
  }
  const out = await wranglerOk(["d1", "create", name]);
  // wrangler prints the binding snippet for wrangler.toml; the list is the fallback.
  const id =
    /database_id\s*=\s*"([0-9a-f-]{36})"/.exec(out)?.[1] ??
    (await listDatabases()).find((db) => db.name === name)?.uuid;
  if (!id) throw new Error(`created D1 database ${name}, but could not find its ID`);
  changes.push(`created D1 database ${name} (${id})`);
  step(`D1 database ${name} created (${id})`);
  return id;
}

async function ensureQueue(name: string): Promise<void> {
  const info = await wrangler(["queues", "info", name]);
  if (info.code === 0) {
    step(`queue ${name} exists`);
    return;
  }
  if (!/does not exist/.test(info.stderr + info.stdout)) throw new WranglerError(["queues", "info", name], info);
  await wranglerOk(["queues", "create", name]);
  changes.push(`created queue ${name}`);
  step(`queue ${name} created`);
}

/** The names of the Worker's secrets; none before the Worker exists (`wrangler secret list` says "not found"). */
async function existingSecrets(): Promise<Set<string>> {
  const result = await wrangler(["secret", "list", "--format", "json"]);
  if (result.code !== 0) {
    if (/not found/i.test(result.stderr + result.stdout)) return new Set();
    throw new WranglerError(["secret", "list"], result);
  }
  const parsed: unknown = JSON.parse(result.stdout.slice(result.stdout.indexOf("[")));
  if (!Array.isArray(parsed)) throw new Error("`wrangler secret list` did not print a list");
  return new Set(parsed.flatMap((s: unknown) => (typeof s === "object" && s && "name" in s ? [String(s.name)] : [])));
}

async function putSecret(name: string, value: string, verb: string): Promise<void> {
  await wranglerOk(["secret", "put", name], { input: value });
  changes.push(`${verb} secret ${name}`);
  step(`secret ${name} ${verb}`);
}

async function ensureSecrets(vars: Record<string, string>): Promise<void> {
  const { required, optional } = secretNames(vars);
  const existing = await existingSecrets();
  const generated: string[] = [];
  for (const name of [...required, ...optional]) {
    const fromEnv = process.env[name];
    if (fromEnv) {
      await putSecret(
        name,
        fromEnv,
        existing.has(name) ? "updated from the environment:" : "set from the environment:",
      );
      continue;
    }
    if (existing.has(name)) {
      step(`secret ${name} is set (unchanged; export ${name}=… to replace it)`);
      continue;
    }
    const isRequired = required.includes(name);
    let value = "";
    if (interactive()) {
      const hint = isRequired ? "empty: generate one" : "empty: skip";
      value = await askSecret(`${name} (${hint}): `);
    }
    if (!value && isRequired) {
      value = generateSecret();
      generated.push(`${name}=${value}`);
    }
    if (value) await putSecret(name, value, "set:");
    else notes.push(`${name} is not set (a workflow that uses it fails until: npx wrangler secret put ${name})`);
  }
  if (generated.length > 0) {
    notes.push(
      `Generated, shown once — keep them (OKTA_HOOK_SECRET goes into Okta's Authentication secret, ADMIN_TOKEN signs in to the dashboard and the API):\n    ${generated.join("\n    ")}`,
    );
  }
}

async function main(): Promise<void> {
  const toml = readFileSync(CONFIG_PATH, "utf8");
  const config = readProjectConfig(toml);
  console.log(
    `Setting up ${config.workerName} on Cloudflare (wrangler.toml: D1 ${config.database.name}, queues ${config.queues.join(", ")})`,
  );

  const databaseId = await ensureDatabase(config.database.name);
  if (config.database.id !== databaseId) {
    writeFileSync(CONFIG_PATH, withDatabaseId(toml, config.database.name, databaseId));
    changes.push(`wrangler.toml: database_id = "${databaseId}" (was "${config.database.id}")`);
    step(`wrangler.toml now names database ${databaseId}`);
  }
  for (const queue of config.queues) await ensureQueue(queue);
  await ensureSecrets(config.vars);

  console.log("");
  if (changes.length === 0) console.log("Nothing changed: everything was already set up.");
  else console.log(`Changed:\n${changes.map((c) => `  - ${c}`).join("\n")}`);
  for (const note of notes) console.log(`\nNote: ${note}`);
  console.log("\nNext: npm run deploy");
}

runCli(
  HELP,
  async (argv) => {
    if (printedHelp(parseCli(argv, {}).values, HELP)) return;
    await main();
  },
  (err) => {
    console.error(`\nsetup:cloudflare stopped: ${err instanceof Error ? err.message : String(err)}`);
    if (changes.length > 0) console.error(`Already changed:\n${changes.map((c) => `  - ${c}`).join("\n")}`);
    if (err instanceof WranglerError && err.needsLogin) console.error(`\n${LOGIN_HINT}`);
    else console.error("Fix the cause and run it again; it picks up where it stopped.");
  },
);
