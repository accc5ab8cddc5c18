import { defineConfig } from "vitest/config";

// Tests of the Node-side tools (npm run setup:cloudflare, npm run deploy) against a
// stand-in wrangler on PATH: they spawn processes, so they run in Node, not workerd.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
