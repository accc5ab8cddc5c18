import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The plugin reads wrangler.toml through wrangler, which also loads a local .dev.vars and
// says so ("Using secrets defined in .dev.vars"). The bindings below replace every value
// .dev.vars.example defines, so that line is noise here: keep wrangler to warnings and errors.
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // wrangler.toml's [assets], as a binding the tests can fetch through: the plugin's
        // SELF goes straight to the Worker, while deployed requests meet the assets first.
        assets: { directory: "./public", binding: "TEST_ASSETS" },
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          // Test values, independent of any local .dev.vars.
          OKTA_HOOK_SECRET: "test-hook-secret",
          OKTA_HOOK_SECRET_PREVIOUS: "",
          ADMIN_TOKEN: "test-admin-token",
          // Two named Okta orgs (test/hook-sources.test.ts): acme mid-rotation, globex with its own header.
          OKTA_SOURCES: JSON.stringify({
            acme: { secret: "OKTA_HOOK_SECRET_ACME", previousSecret: "OKTA_HOOK_SECRET_ACME_PREVIOUS" },
            globex: { secret: "OKTA_HOOK_SECRET_GLOBEX", authHeader: "X-Globex-Hook" },
            initech: { secret: "OKTA_HOOK_SECRET_INITECH" },
          }),
          OKTA_HOOK_SECRET_ACME: "acme-hook-secret",
          OKTA_HOOK_SECRET_ACME_PREVIOUS: "acme-old-hook-secret",
          OKTA_HOOK_SECRET_GLOBEX: "globex-hook-secret",
          // OKTA_HOOK_SECRET_INITECH is deliberately unset: nothing opens /hooks/okta/initech.
          OKTA_ORG_URL: "https://example.okta.com",
          OKTA_API_TOKEN: "test-okta-api-token",
          SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/test-slack-secret",
          PARTNER_TOKEN: "sk_live_partner_0123456789",
          // The operator's declaration: which secrets workflows may use, and where each may go.
          WORKFLOW_SECRETS: JSON.stringify({
            SLACK_WEBHOOK_URL: ["https://hooks.slack.com"],
            OKTA_API_TOKEN: "okta",
            PARTNER_TOKEN: ["https://partner.example.com", "https://receiver.example.test"],
            // Declared, never set: a run reports the missing secret.
            UNSET_TOKEN: ["https://receiver.example.test"],
          }),
          PAGER_TOKEN: "test-pager-token",
          // Cloudflare Access on (test/access.test.ts serves this team's keys by intercepting fetch).
          ACCESS_TEAM_DOMAIN: "https://test-team.cloudflareaccess.com",
          ACCESS_AUD: "test-access-aud",
          // Production behaviour: plain http to a loopback receiver is refused.
          LOCAL_DEV: "",
          // The fault simulator's seeds (test/sim/sim.test.ts, `npm run sim`).
          SIM_SEED: process.env.SIM_SEED ?? "",
          SIM_SEEDS: process.env.SIM_SEEDS ?? "",
          SIM_FIRST: process.env.SIM_FIRST ?? "",
          SIM_FAULTS: process.env.SIM_FAULTS ?? "",
          SIM_PLAIN: process.env.SIM_PLAIN ?? "",
        },
        // Deliver queue batches at once instead of after wrangler.toml's 1 s batching window.
        queueConsumers: {
          "okta-events": { maxBatchTimeout: 0, maxRetries: 10, deadLetterQueue: "okta-events-dlq" },
          "okta-events-dlq": { maxBatchTimeout: 0, maxRetries: 10 },
        },
      },
    }),
  ],
  test: {
    // The failures tests inject carry the word "injected": the Worker's log of them is
    // expected, so it stays out of the output (see test/expected-logs.ts).
    // The Worker's info lines (console.log: a delivery accepted, a letter recorded) are
    // the normal course of every test; warnings and errors still print.
    onConsoleLog: (log: string, type: "stdout" | "stderr") =>
      log.includes("injected") || (type === "stdout" && log.startsWith('{"msg":')) ? false : undefined,
    include: ["test/**/*.test.ts"],
    // The browser suite runs in Node against `wrangler dev` (vitest.browser.config.ts).
    exclude: ["test/browser/**", "test/tools/**"],
    // End-to-end tests wait for the real queue and alarms.
    testTimeout: 20_000,
    setupFiles: ["./test/apply-migrations.ts"],
  },
}));
