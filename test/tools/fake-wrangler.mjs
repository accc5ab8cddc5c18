/**
 * A stand-in for the `wrangler` CLI, for the deploy tools' tests. It keeps an account's
 * state (databases, queues, the Worker's secrets, applied migrations) in a JSON file,
 * appends every call (argv and stdin) to a log, and prints what wrangler 4.164 prints
 * for the commands the tools use, copied from wrangler's source: `d1 list --json` (the
 * API's objects), `d1 create` (the TOML snippet), `queues info` (and its "does not
 * exist" error), `secret list` (JSON, or "not found" before the first deploy), `secret
 * put` (value on stdin), `d1 migrations apply --remote`, and `deploy` (its output-file
 * entry with the URLs).
 *
 * FAKE_WRANGLER_STATE, FAKE_WRANGLER_LOG: the two files. FAKE_WRANGLER_LOGGED_OUT=1:
 * every command fails as wrangler does without credentials in a non-interactive shell.
 */

import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const statePath = process.env.FAKE_WRANGLER_STATE;
const logPath = process.env.FAKE_WRANGLER_LOG;
if (!statePath || !logPath) {
  console.error("fake wrangler: FAKE_WRANGLER_STATE and FAKE_WRANGLER_LOG must be set");
  process.exit(2);
}

const stdin = process.stdin.isTTY ? "" : readFileSync(0, "utf8");
appendFileSync(logPath, `${JSON.stringify({ args, stdin })}\n`);

const state = existsSync(statePath)
  ? JSON.parse(readFileSync(statePath, "utf8"))
  : { databases: [], queues: [], worker: null, secrets: {}, migrations: [], subdomain: "acme" };
const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2));

function fail(message) {
  process.stderr.write(`\n✘ [ERROR] ${message}\n\n`);
  process.exit(1);
}

function banner() {
  console.log("\n ⛅️ wrangler 4.164.0\n───────────────────");
}

function workerName() {
  const toml = readFileSync("wrangler.toml", "utf8");
  return /^name\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? fail("Required Worker name missing.");
}

function table(rows) {
  const head = Object.keys(rows[0] ?? {});
  const widths = head.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells) => `│ ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" │ ")} │`;
  return [
    `┌─${widths.map((w) => "─".repeat(w)).join("─┬─")}─┐`,
    line(head),
    `├─${widths.map((w) => "─".repeat(w)).join("─┼─")}─┤`,
    ...rows.map((r) => line(head.map((h) => r[h]))),
    `└─${widths.map((w) => "─".repeat(w)).join("─┴─")}─┘`,
  ].join("\n");
}

if (process.env.FAKE_WRANGLER_LOGGED_OUT === "1") {
  // The reason comes first and wrangler's closing lines after it: a tool that shows only
  // the last lines loses the one that says what to do.
  process.stderr.write(
    [
      "",
      "✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN.",
      "",
      "",
      "If you think this is a bug then please create an issue at https://github.com/cloudflare/workers-sdk/issues/new/choose",
      "? Would you like to report this error to Cloudflare? Wrangler's output and the error details will be shared with the Wrangler team to help us diagnose and fix the issue.",
      "🤖 Using fallback value in non-interactive context: no",
      '🪵  Logs were written to "~/.config/.wrangler/logs/wrangler-2026-12-03_23-55-00_123.log"',
      "",
    ].join("\n"),
  );
  process.exit(1);
}

const [command, sub, name] = args;
const key = `${command} ${sub ?? ""}`.trim();

if (key === "d1 list" && args.includes("--json")) {
  console.log(JSON.stringify(state.databases, null, 2));
} else if (key === "d1 create" && name) {
  banner();
  if (state.databases.some((db) => db.name === name)) fail(`A database with that name already exists [code: 7502]`);
  const db = {
    uuid: randomUUID(),
    name,
    created_at: new Date().toISOString(),
    version: "production",
    num_tables: 0,
    file_size: 12288,
    jurisdiction: null,
  };
  state.databases.push(db);
  save();
  console.log(`✅ Successfully created DB '${name}' in region WEUR`);
  console.log("Created your new D1 database.\n");
  console.log("To access your new D1 Database in your Worker, add the following snippet to your configuration file:");
  console.log(
    `[[d1_databases]]\nbinding = "${name.replace(/[\s-]/g, "_")}"\ndatabase_name = "${name}"\ndatabase_id = "${db.uuid}"\n`,
  );
} else if (key === "queues info" && name) {
  banner();
  const queue = state.queues.find((q) => q.queue_name === name);
  if (!queue) fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
  console.log(`Queue Name: ${queue.queue_name}\nQueue ID: ${queue.queue_id}\nCreated On: ${queue.created_on}`);
  console.log(`Last Modified: ${queue.created_on}\nNumber of Producers: 0\nNumber of Consumers: 0`);
} else if (key === "queues create" && name) {
  banner();
  console.log(`🌀 Creating queue '${name}'`);
  if (state.queues.some((q) => q.queue_name === name)) fail(`A queue with this name already exists. [code: 11009]`);
  state.queues.push({
    queue_id: randomUUID().replaceAll("-", ""),
    queue_name: name,
    created_on: new Date().toISOString(),
  });
  save();
  console.log(`✅ Created queue '${name}'\n\nConfigure your Worker to send messages to this queue:\n`);
  console.log(`[[queues.producers]]\nqueue = "${name}"\nbinding = "${name.replace(/[\s-]/g, "_")}"\n`);
} else if (key === "secret list") {
  const worker = workerName();
  if (state.worker !== worker) {
    fail(
      `Worker "${worker}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.\nOtherwise, check that the Worker name is correct and you're logged into the right account.`,
    );
  }
  const secrets = Object.keys(state.secrets).map((secretName) => ({ name: secretName, type: "secret_text" }));
  console.log(JSON.stringify(secrets, null, "  "));
} else if (key === "secret put" && name) {
  banner();
  const worker = workerName();
  if (stdin.trim() === "") fail("Secret value cannot be empty");
  console.log(`🌀 Creating the secret for the Worker "${worker}" `);
  if (state.worker !== worker) {
    console.log(`🌀 Creating new Worker "${worker}"...`);
    state.worker = worker;
  }
  state.secrets[name] = stdin.replace(/\s+$/, "");
  save();
  console.log(`✨ Success! Uploaded secret ${name}`);
} else if (key === "d1 migrations" && name === "apply" && args.includes("--remote")) {
  banner();
  const toml = readFileSync("wrangler.toml", "utf8");
  const id = /^database_id\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!state.databases.some((db) => db.uuid === id)) fail(`Couldn't find DB with name or binding '${args[3]}'`);
  const pending = readdirSync("migrations")
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .filter((file) => !state.migrations.includes(file));
  if (pending.length === 0) {
    console.log("✅ No migrations to apply!");
  } else {
    console.log("Migrations to be applied:");
    console.log(table(pending.map((file) => ({ Name: file }))));
    state.migrations.push(...pending);
    save();
    console.log(table(pending.map((file) => ({ Name: file, Status: "✅" }))));
  }
} else if (command === "deploy" && !args.includes("--dry-run")) {
  banner();
  const worker = workerName();
  state.worker = worker;
  state.deploys = (state.deploys ?? 0) + 1;
  save();
  const url = `https://${worker}.${state.subdomain}.workers.dev`;
  const versionId = randomUUID();
  console.log("Total Upload: 612.40 KiB / gzip: 121.05 KiB");
  console.log(`Uploaded ${worker} (2.10 sec)`);
  console.log(`Deployed ${worker} triggers (0.80 sec)\n  ${url}\n  schedule: * * * * *`);
  console.log(`Current Version ID: ${versionId}`);
  const output = process.env.WRANGLER_OUTPUT_FILE_PATH;
  if (output) {
    appendFileSync(
      output,
      `${JSON.stringify({ type: "wrangler-session", version: 1, wrangler_version: "4.164.0", command_line_args: args, log_file_path: "/dev/null" })}\n`,
    );
    appendFileSync(
      output,
      `${JSON.stringify({ type: "deploy", version: 1, worker_name: worker, worker_tag: "tag", version_id: versionId, targets: [url], worker_name_overridden: false })}\n`,
    );
  }
} else {
  fail(`fake wrangler: not a command the deploy tools use: wrangler ${args.join(" ")}`);
}
