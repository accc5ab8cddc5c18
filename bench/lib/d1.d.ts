/**
 * The benchmarks read D1 from Node through Miniflare's `getD1Database`, which returns
 * the Workers `D1Database`; name that type here without pulling the Workers globals
 * into Node code.
 */
type D1Database = import("@cloudflare/workers-types/experimental").D1Database;
