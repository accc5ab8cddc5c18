/**
 * `npm run setup:cloudflare` and `npm run deploy`, run as the README says, against a
 * stand-in wrangler on PATH (fake-wrangler.mjs) that keeps an account's state and
 * answers as the real CLI does. Each test works on a copy of wrangler.toml and
 * migrations/ in a temporary directory, with a fresh account.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PLACEHOLDER_DATABASE_ID } from "../../tools/deploy/config";

const ROOT = resolve(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const FAKE_BIN = join(ROOT, "test/tools/fake-bin");
const SECRET_NAMES = [
  "OKTA_HOOK_SECRET",
  "ADMIN_TOKEN",
  "SLACK_WEBHOOK_URL",
  "OKTA_API_TOKEN",
  "OKTA_ORG_URL",
  "PAGER_TOKEN",
];

interface Project {
  dir: string;
  run: (tool: "setup" | "deploy", env?: Record<string, string>) => { code: number; out: string; err: string };
  calls: () => Array<{ args: string[]; stdin: string }>;
  state: () => {
    databases: Array<{ uuid: string; name: string }>;
    queues: Array<{ queue_name: string }>;
    secrets: Record<string, string>;
    migrations: string[];
  };
  toml: () => string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(): Project {
  const dir = mkdtempSync(join(tmpdir(), "okta-deploy-"));
  dirs.push(dir);
  cpSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
  cpSync(join(ROOT, "migrations"), join(dir, "migrations"), { recursive: true });
  const statePath = join(dir, "fake-state.json");
  const logPath = join(dir, "fake-calls.ndjson");
  writeFileSync(logPath, "");
  return {
    dir,
    run(tool, env = {}) {
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !SECRET_NAMES.includes(name) && !name.startsWith("FAKE_")),
      );
      const result = spawnSync(process.execPath, [TSX, join(ROOT, `tools/deploy/${tool}.ts`)], {
        cwd: dir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...inherited,
          PATH: `${FAKE_BIN}:${process.env.PATH}`,
          FAKE_WRANGLER_STATE: statePath,
          FAKE_WRANGLER_LOG: logPath,
          ...env,
        },
      });
      return { code: result.status ?? -1, out: result.stdout, err: result.stderr };
    },
    calls: () =>
      readFileSync(logPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    state: () => JSON.parse(readFileSync(statePath, "utf8")),
    toml: () => readFileSync(join(dir, "wrangler.toml"), "utf8"),
  };
}

const commands = (p: Project) => p.calls().map((call) => call.args.join(" "));

describe("npm run setup:cloudflare", () => {
  it("on a fresh account: creates the database, both queues and the secrets, and writes the database ID", async () => {
    const p = project();
    const { code, out } = p.run("setup");
    expect(code, out).toBe(0);

    const state = p.state();
    const [db] = state.databases;
    expect(state.databases.map((d) => d.name)).toEqual(["okta-event-workflows"]);
    expect(state.queues.map((q) => q.queue_name).sort()).toEqual(["okta-events", "okta-events-dlq"]);
    expect(p.toml()).toContain(`database_id = "${db?.uuid}"`);
    expect(p.toml()).not.toContain(PLACEHOLDER_DATABASE_ID);
    // Only that line changed: comments and layout are kept.
    const before = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    expect(p.toml()).toBe(before.replace(`database_id = "${PLACEHOLDER_DATABASE_ID}"`, `database_id = "${db?.uuid}"`));

    // Without a terminal or environment variables, the two required secrets are generated, the optional skipped.
    expect(Object.keys(state.secrets).sort()).toEqual(["ADMIN_TOKEN", "OKTA_HOOK_SECRET"]);
    expect(state.secrets.OKTA_HOOK_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(out).toContain(`OKTA_HOOK_SECRET=${state.secrets.OKTA_HOOK_SECRET}`);
    expect(out).toContain("SLACK_WEBHOOK_URL is not set");

    const changed = out.slice(out.indexOf("Changed:")).split("\nNote:")[0];
    expect(changed.trim().split("\n")).toEqual([
      "Changed:",
      `  - created D1 database okta-event-workflows (${db?.uuid})`,
      `  - wrangler.toml: database_id = "${db?.uuid}" (was "${PLACEHOLDER_DATABASE_ID}")`,
      "  - created queue okta-events",
      "  - created queue okta-events-dlq",
      "  - set: secret OKTA_HOOK_SECRET",
      "  - set: secret ADMIN_TOKEN",
    ]);
  });

  it("run again, changes nothing and says so", async () => {
    const p = project();
    expect(p.run("setup").code).toBe(0);
    const toml = p.toml();
    const callsBefore = p.calls().length;

    const { code, out } = p.run("setup");
    expect(code, out).toBe(0);
    expect(out).toContain("Nothing changed: everything was already set up.");
    expect(p.toml()).toBe(toml);
    const again = commands(p).slice(callsBefore);
    expect(again).toEqual([
      "d1 list --json",
      "queues info okta-events",
      "queues info okta-events-dlq",
      "secret list --format json",
    ]);
  });

  it("takes secrets from the environment, through stdin, and never prints them", async () => {
    const p = project();
    const env = {
      OKTA_HOOK_SECRET: "hook-secret-from-env-0123456789",
      ADMIN_TOKEN: "admin-token-from-env-0123456789",
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/from-env",
    };
    const { code, out, err } = p.run("setup", env);
    expect(code, err).toBe(0);
    const state = p.state();
    for (const [name, value] of Object.entries(env)) {
      expect(state.secrets[name]).toBe(value);
      expect(out + err).not.toContain(value);
    }
    const puts = p.calls().filter((call) => call.args[0] === "secret" && call.args[1] === "put");
    expect(puts.map((call) => [call.args[2], call.stdin])).toEqual(Object.entries(env));
    expect(out).toContain("  - set from the environment: secret SLACK_WEBHOOK_URL");
  });

  it("on a second machine (database exists, wrangler.toml still has the placeholder): only writes the ID", async () => {
    const p = project();
    expect(p.run("setup").code).toBe(0);
    const id = p.state().databases[0]?.uuid ?? "";
    writeFileSync(join(p.dir, "wrangler.toml"), p.toml().replace(id, PLACEHOLDER_DATABASE_ID));

    const { code, out } = p.run("setup");
    expect(code, out).toBe(0);
    expect(p.state().databases).toHaveLength(1);
    expect(p.toml()).toContain(`database_id = "${id}"`);
    expect(out).toContain(`Changed:\n  - wrangler.toml: database_id = "${id}"`);
    expect(commands(p).filter((c) => c.startsWith("d1 create"))).toHaveLength(1);
  });

  it("without Cloudflare credentials: stops with wrangler's reason and changes nothing", async () => {
    const p = project();
    const { code, err } = p.run("setup", { FAKE_WRANGLER_LOGGED_OUT: "1" });
    expect(code).toBe(1);
    expect(err).toContain("setup:cloudflare stopped");
    // wrangler's own reason, whole, though more lines follow it; then what to do next.
    expect(err).toContain("it's necessary to set a CLOUDFLARE_API_TOKEN environment variable");
    expect(err).toContain("Next step: log in to Cloudflare");
    expect(err).toContain("npx wrangler login");
    expect(p.toml()).toBe(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  });
});

describe("npm run deploy", () => {
  it("refuses before setup (placeholder database ID), calling nothing", async () => {
    const p = project();
    const { code, err } = p.run("deploy");
    expect(code).toBe(1);
    expect(err).toContain("run `npm run setup:cloudflare` first");
    expect(p.calls()).toEqual([]);
  });

  it("applies the migrations remotely, then deploys, then prints the hook URL and Okta's next steps", async () => {
    const p = project();
    expect(p.run("setup").code).toBe(0);
    const before = p.calls().length;

    const { code, out, err } = p.run("deploy");
    expect(code, err).toBe(0);
    expect(commands(p).slice(before)).toEqual(["d1 migrations apply DB --remote", "deploy"]);
    expect(p.state().migrations).toContain("0000_init.sql");
    expect(out).toContain("    https://okta-event-workflows.acme.workers.dev/hooks/okta");
    expect(out).toContain("Authentication field: Authorization");
    expect(out).toContain("Workflow → Event Hooks → Create Event Hook");
    expect(out).toContain("https://okta-event-workflows.acme.workers.dev/healthz");

    // A second deploy has no migrations left to apply.
    const again = p.run("deploy");
    expect(again.code).toBe(0);
    expect(again.out).toContain("No migrations to apply!");
  });
});
