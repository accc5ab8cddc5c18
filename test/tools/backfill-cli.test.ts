/**
 * `npm run okta:backfill` as a user calls it: `--since`/`--until` are read strictly (no
 * rollover of a date that does not exist, no guess at a local time zone, a range that
 * runs forwards), and the resume command it prints after a failure keeps every option.
 * The Okta org is an address nothing listens on, so the run fails at its first request.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function backfillCli(args: string[], extraEnv: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "tools/okta-backfill/cli.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
    env: {
      ...process.env,
      // Nothing listens on these: a run that gets past its options fails at once, with a resume command.
      OKTA_ORG_URL: "http://127.0.0.1:59999",
      OKTA_API_TOKEN: "t",
      OKTA_HOOK_SECRET: "s",
      ADMIN_TOKEN: "a",
      SERVICE_URL: "http://127.0.0.1:59998",
      TZ: "Europe/Berlin",
      ...extraEnv,
    },
  });
  return { code: result.status, out: result.stdout, err: result.stderr, text: result.stdout + result.stderr };
}

describe("okta:backfill --since/--until", () => {
  it.each([
    ["2026-02-30", "is not a date that exists"],
    ["2026-02-29T00:00:00Z", "is not a date that exists"],
    ["2026-13-01", "is not a date that exists"],
    ["2026-11-01T24:00:00Z", "is not a time that exists"],
    ["2026-11-01T08:00:00", "needs a time zone"],
    ["yesterday", "must be a date"],
    ["2026-11-01T08:00:00+25:00", "offset that does not exist"],
  ])("refuses --since %s with exit 2 (%s)", (since, message) => {
    const { code, text } = backfillCli(["--since", since, "--until", "2026-12-01T00:00:00Z"]);
    expect(text).toContain(message);
    expect(text).toContain("npm run okta:backfill -- --since T");
    expect(text).not.toContain("backfill 20");
    expect(code).toBe(2);
  });

  it("refuses --since after --until, and an empty range", () => {
    for (const until of ["2026-11-01T00:00:00Z", "2026-10-31T00:00:00Z"]) {
      const { code, text } = backfillCli(["--since", "2026-11-01", "--until", until]);
      expect(text).toContain("must be before --until");
      expect(code).toBe(2);
    }
  });

  it("reads a date alone as UTC midnight and an offset as given, whatever the machine's time zone", () => {
    const { text } = backfillCli(["--since", "2026-11-01", "--until", "2026-11-02T09:30:00+01:00", "--store-only"]);
    expect(text).toContain("backfill 2026-11-01T00:00:00.000Z .. 2026-11-02T08:30:00.000Z");
  });
});

describe("okta:backfill's resume command", () => {
  it("keeps every option given: the range, types, page size, URL and mode", () => {
    const { code, text } = backfillCli([
      "--since",
      "2026-11-01T00:00:00Z",
      "--until",
      "2026-11-02T00:00:00Z",
      "--types",
      "system.import.start,system.api_token.create",
      "--limit",
      "50",
      "--url",
      "http://127.0.0.1:59998",
      "--start-runs",
    ]);
    expect(code).toBe(1);
    expect(text).toContain(
      "npm run okta:backfill -- --since 2026-11-01T00:00:00.000Z --until 2026-11-02T00:00:00.000Z " +
        "--types system.import.start,system.api_token.create --limit 50 --url http://127.0.0.1:59998 --start-runs",
    );
  });

  it("writes out the mode it chose by default, so a later resume does not flip it", () => {
    const { text } = backfillCli(["--since", "2026-11-01", "--until", "2026-11-02"]);
    expect(text).toMatch(/store-only \(the window starts more than 1 h ago/);
    expect(text).toContain("--until 2026-11-02T00:00:00.000Z --store-only");
  });
});

describe("npm run replay's options", () => {
  const replayCli = (args: string[]) => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "tools/replay/cli.ts", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, ADMIN_TOKEN: "a", SERVICE_URL: "http://127.0.0.1:59998" },
    });
    return { code: result.status, text: result.stdout + result.stderr };
  };

  it("refuses --run with --store-only, a date that does not exist, and a time without an offset", () => {
    for (const [args, message] of [
      [["--since", "2026-11-01", "--run", "--store-only"], "contradict"],
      [["--since", "2026-02-30"], "is not a date that exists"],
      [["--since", "2026-11-01T08:00:00"], "needs a time zone"],
    ] as const) {
      const { code, text } = replayCli([...args]);
      expect(text).toContain(message);
      expect(text).not.toMatch(/\n\s+at /);
      expect(code).toBe(2);
    }
  });
});
