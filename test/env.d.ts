/** Bindings that exist only under the test runner (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** wrangler.toml's [assets] (public/), fetched through the assets layer itself. */
    TEST_ASSETS: Fetcher;
    /** The fault simulator's options (test/sim/sim.test.ts, `npm run sim`); empty: the CI cases. */
    SIM_SEED: string;
    SIM_SEEDS: string;
    SIM_FIRST: string;
    SIM_FAULTS: string;
    SIM_PLAIN: string;
  }
}
