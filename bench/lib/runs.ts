/**
 * Counting runs by status while a benchmark waits for them, robust to engine changes:
 * through D1's `runs` table when it has one with a `status` column (one cheap query,
 * fit for polling), else through the public `GET /api/runs?status=` (paged, 200 a page).
 * BENCH_RUN_COUNTS=api forces the API.
 */
import { api, count } from "./project";
import type { RunningWorker } from "./runtime";

/** The statuses the API knows today; a status the API rejects counts as none. */
export const KNOWN_STATUSES = ["running", "waiting", "completed", "failed", "timed_out", "terminated"] as const;

export interface RunCounter {
  /** Where the counts come from, for the report. */
  source: string;
  /** Runs whose status is one of `statuses`. */
  count(statuses: readonly string[]): Promise<number>;
  /** Runs per status, e.g. { completed: 5000, waiting: 3 }, for error messages. */
  statuses(): Promise<Record<string, number>>;
}

export async function runCounter(worker: RunningWorker): Promise<RunCounter> {
  const db = await worker.db();
  const hasTable =
    process.env.BENCH_RUN_COUNTS !== "api" &&
    (await db
      .prepare("select status from runs limit 1")
      .all()
      .then(() => true)
      .catch(() => false));
  const counter: Pick<RunCounter, "source" | "count"> = hasTable
    ? {
        source: "D1 table runs",
        count: (statuses) =>
          count(
            db,
            `select count(*) as n from runs where status in (${statuses.map(() => "?").join(", ")})`,
            ...statuses,
          ),
      }
    : {
        source: "GET /api/runs",
        count: async (statuses) => {
          let total = 0;
          for (const status of statuses) total += await countThroughApi(worker, status);
          return total;
        },
      };
  return {
    ...counter,
    async statuses() {
      const entries = await Promise.all(KNOWN_STATUSES.map(async (s) => [s, await counter.count([s])] as const));
      return Object.fromEntries(entries.filter(([, n]) => n > 0));
    },
  };
}

async function countThroughApi(worker: RunningWorker, status: string): Promise<number> {
  let total = 0;
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ status, limit: "200", ...(cursor ? { cursor } : {}) });
    const page = (await api(worker, "GET", `/api/runs?${query}`).catch(() => ({ runs: [], nextCursor: null }))) as {
      runs: unknown[];
      nextCursor: string | null;
    };
    total += page.runs.length;
    cursor = page.nextCursor;
  } while (cursor);
  return total;
}
