/**
 * Every Node-side tool, called the way a new user calls it: `--help` prints the usage and
 * exits 0 without doing anything, an unknown option prints the usage and exits 2 with no
 * stack trace, and a number option refuses "abc".
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** [npm script, entry file, a number option (or null when it has none), what --help starts with]. */
const TOOLS: Array<[string, string, string | null, string]> = [
  ["okta:standin", "tools/okta-standin/cli.ts", "--seed", "Local stand-in for an Okta org"],
  ["okta", "tools/local-okta/cli.ts", "--count", "Local Okta"],
  ["okta:hook", "tools/okta-hook/cli.ts", null, "npm run okta:hook"],
  ["okta:backfill", "tools/okta-backfill/cli.ts", "--limit", "npm run okta:backfill"],
  ["replay", "tools/replay/cli.ts", null, "npm run replay"],
  ["workflows:load", "tools/load-workflows.ts", null, "Loads workflow definitions"],
  ["catcher", "tools/catcher.ts", "--port", "Local receiver"],
  ["bench", "bench/ingress.ts", null, "Usage: npm run bench"],
  ["bench:consumer", "bench/consumer.ts", "--events", "Usage: npm run bench:consumer"],
  ["bench:resume", "bench/resume.ts", "--samples", "Usage: npm run bench:resume"],
  ["bench:dashboard", "bench/dashboard.ts", "--samples", "Usage: npm run bench:dashboard"],
  ["setup:cloudflare", "tools/deploy/setup.ts", null, "Makes the Cloudflare account ready"],
  ["deploy", "tools/deploy/deploy.ts", null, "Deploys the Worker"],
  ["crash-test", "tools/crash-test/cli.ts", "--runs", "Usage: npm run crash-test"],
  ["sim", "tools/sim/cli.ts", "--seeds", "Usage: npm run sim"],
];

function run(file: string, args: string[]) {
  // PATH without wrangler: --help and a usage error must never reach it (setup:cloudflare used to run).
  const result = spawnSync(process.execPath, ["--import", "tsx", file, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, PATH: "/nonexistent", OKTA_ORG_URL: "http://127.0.0.1:59999", OKTA_API_TOKEN: "t" },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe.each(TOOLS)("npm run %s", (_script, file, numberOption, helpStart) => {
  it("--help prints the usage and exits 0", () => {
    const { code, out } = run(file, ["--help"]);
    expect(out.trimStart().startsWith(helpStart), out).toBe(true);
    expect(code).toBe(0);
  });

  it("an unknown option prints the usage and exits 2, without a stack trace", () => {
    const { code, out, err } = run(file, ["--no-such-option"]);
    const text = out + err;
    expect(text).toContain("Unknown option '--no-such-option'");
    expect(text).toContain(helpStart);
    expect(text).not.toMatch(/\n\s+at /);
    expect(code).toBe(2);
  });

  it.runIf(numberOption !== null)(`a bad number (${numberOption} abc) is refused with exit 2`, () => {
    const args = file.includes("local-okta")
      ? ["send", "system.import.start", String(numberOption), "abc"]
      : [String(numberOption), "abc"];
    const { code, out, err } = run(file, args);
    expect(out + err).toContain(`${numberOption} must be`);
    expect(out + err).toContain('"abc"');
    expect(code).toBe(2);
  });
});

describe("--url is the service's base URL", () => {
  it.each([
    ["okta:backfill", "tools/okta-backfill/cli.ts"],
    ["replay", "tools/replay/cli.ts"],
  ])("%s refuses a hook URL with the origin to use instead", (_script, file) => {
    const { code, out, err } = run(file, ["--since", "2026-11-01", "--url", "http://127.0.0.1:59999/hooks/okta"]);
    expect(out + err).toContain("--url is the service's base URL, not a path on it: use http://127.0.0.1:59999");
    expect(code).toBe(2);
  });
});

describe("network errors name the URL and the cause", () => {
  it("okta:hook against an org URL that refuses connections", () => {
    const { code, out, err } = run("tools/okta-hook/cli.ts", ["list"]);
    expect(out + err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:59999\/api\/v1\/eventHooks: .*ECONNREFUSED/);
    expect(code).toBe(1);
  });

  it("okta verify against a service that is not running", () => {
    const { code, err } = run("tools/local-okta/cli.ts", ["verify", "--url", "http://127.0.0.1:59999/hooks/okta"]);
    expect(err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:59999\/hooks\/okta: .*ECONNREFUSED/);
    expect(code).toBe(1);
  });
});

describe("okta:hook register --dry-run", () => {
  it("flags a plain-http hook URL that is not loopback as refused by Okta", () => {
    const env = ["register", "--dry-run", "--url", "http://hooks.example.com/hooks/okta"];
    const result = spawnSync(process.execPath, ["--import", "tsx", "tools/okta-hook/cli.ts", ...env], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, OKTA_ORG_URL: "http://127.0.0.1:59999", OKTA_API_TOKEN: "t", OKTA_HOOK_SECRET: "s" },
    });
    expect(result.stdout).toContain("refused: Okta refuses http:// hook URLs");
    expect(result.status).toBe(1);
  });
});
