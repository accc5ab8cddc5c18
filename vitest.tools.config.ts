import { defineConfig } from "vitest/config";

// The Okta org tools (okta:hook, okta:backfill, the stand-in): Node, not workerd. Each file
// starts the Okta stand-in itself and, where it needs our hook, the real local service (`wrangler dev`).
export default defineConfig({
  test: {
    include: ["test/tools/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
