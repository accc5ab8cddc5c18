/** `npm run dev` passes wrangler's output on, minus what is expected and repeated (tools/dev-output.ts). */
import { describe, expect, it } from "vitest";
import { DevOutputFilter } from "../tools/dev-output";

const BINDINGS = [
  "Your Worker has access to the following bindings:",
  "Binding                 Resource          Mode",
  "env.DB (okta-event-workflows)   D1 Database   local",
  "",
];
const CRON_WARNING = [
  "\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m \u001b[1mScheduled Workers are not automatically triggered during local development.\u001b[0m",
  "",
  "  To manually trigger a scheduled event, run:",
  '    curl "http://127.0.0.1:8787/cdn-cgi/local/scheduled"',
  "  For more details, see https://developers.cloudflare.com/workers/configuration/cron-triggers/",
  "",
  "",
];

function run(lines: string[]): string[] {
  const filter = new DevOutputFilter();
  return [...lines.flatMap((line) => filter.push(line)), ...filter.flush()];
}

describe("DevOutputFilter", () => {
  it("prints the bindings once when wrangler repeats them unchanged", () => {
    expect(run([...BINDINGS, "⎔ Starting local server...", ...BINDINGS, "Ready on http://127.0.0.1:8787"])).toEqual([
      ...BINDINGS,
      "⎔ Starting local server...",
      "Ready on http://127.0.0.1:8787",
    ]);
  });

  it("prints the bindings again when they changed", () => {
    const changed = [...BINDINGS.slice(0, 3), "env.EVENTS (okta-events)   Queue   local", ""];
    expect(run([...BINDINGS, ...changed])).toEqual([...BINDINGS, ...changed]);
  });

  it("drops the cron warning (the dev server fires the cron) and the cron's own request lines", () => {
    expect(
      run([
        "before",
        ...CRON_WARNING,
        "[wrangler:info] GET /cdn-cgi/local/scheduled 200 OK (12ms)",
        "[wrangler:info] POST /hooks/okta 200 OK (30ms)",
      ]),
    ).toEqual(["before", "[wrangler:info] POST /hooks/okta 200 OK (30ms)"]);
  });

  it("keeps a failed cron call and every error", () => {
    const lines = [
      "[wrangler:info] GET /cdn-cgi/local/scheduled 500 Internal Server Error (3ms)",
      "✘ [ERROR] something broke",
      "",
    ];
    expect(run(lines)).toEqual(lines);
  });

  it("stops dropping after a few lines if the warning's format changes", () => {
    const lines = run([CRON_WARNING[0] ?? "", ...Array.from({ length: 12 }, (_, i) => `line ${i}`)]);
    expect(lines).toEqual(Array.from({ length: 4 }, (_, i) => `line ${i + 8}`));
  });
});
