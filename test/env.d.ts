/** Bindings that exist only under the test runner (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** wrangler.toml's [assets] (public/), fetched through the assets layer itself. */
    TEST_ASSETS: Fetcher;
    /** The fault simulator's seeds (test/sim/sim.test.ts). */
    SIM_SEEDS: string;
    SIM_FIRST_SEED: string;
    SIM_SEED: string;
  }
}
