import { defineConfig } from "vitest/config";

// The browser suite: Node, not workerd. It starts `wrangler dev` and drives Debian's Chromium.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
