import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          // Test values, independent of any local .dev.vars.
          OKTA_HOOK_SECRET: "test-hook-secret",
          OKTA_HOOK_SECRET_PREVIOUS: "",
          ADMIN_TOKEN: "test-admin-token",
          OKTA_ORG_URL: "https://example.okta.com",
          OKTA_API_TOKEN: "test-okta-api-token",
          SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/test-slack-secret",
        },
        // Deliver queue batches at once instead of after wrangler.toml's 1 s batching window.
        queueConsumers: {
          "okta-events": { maxBatchTimeout: 0, maxRetries: 10, deadLetterQueue: "okta-events-dlq" },
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // The browser suite runs in Node against `wrangler dev` (vitest.browser.config.ts).
    exclude: ["test/browser/**"],
    // End-to-end tests wait for the real queue and alarms.
    testTimeout: 20_000,
    setupFiles: ["./test/apply-migrations.ts"],
  },
}));
