/**
 * `npm run bench:dashboard` (also `-- --quick`): the Events page against the admin API
 * call it makes. 10,000 events are delivered through the hook into a fresh Worker
 * (Miniflare API, our bundle as deployed) and consumed; then, one request at a time and
 * alternating so both see the same conditions, GET /events (signed-in cookie; the page
 * reads the same 51 rows as the API, then renders HTML) and GET /api/events?limit=50
 * (bearer). Latency is measured at the client over loopback: the same HTTP overhead on
 * both sides, so the difference is the page's own server time. Reports p50/p99 and the
 * page/API ratios; the target is at most 1.5x.
 */
import { parseCli, printedHelp, runCli } from "../tools/cli/args";
import { positiveInt } from "./lib/args";
import { percentile } from "./lib/load";
import {
  ADMIN_TOKEN,
  benchWorkerOptions,
  count,
  deliveries,
  describeSource,
  event,
  pollUntil,
  postDeliveries,
  startProject,
} from "./lib/project";
import { fixed, machine, table, writeResults } from "./lib/report";
import { runtimeDescription, tempDir } from "./lib/runtime";

const HELP = `Usage: npm run bench:dashboard [-- --quick] [-- --events N] [-- --samples S]

  --events N     events delivered and stored before measuring (default 10000)
  --samples S    timed requests of each kind (default 400)
  --quick        S=60 (a smoke check, not a measurement)
  -h, --help     this text

Runs our bundle under the Miniflare API (see bench/README.md); about 2 minutes.`;
const TARGET_RATIO = 1.5;
const TYPES = [
  "system.import.start",
  "system.api_token.create",
  "system.org.rate_limit.warning",
  "access.request.create",
];

async function timed(url: URL, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers, redirect: "manual" });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`${url.pathname} answered ${res.status}`);
  return ms;
}

async function main(argv: string[]) {
  const { values } = parseCli(argv, {
    quick: { type: "boolean" },
    events: { type: "string" },
    samples: { type: "string" },
  });
  if (printedHelp(values, HELP)) return 0;
  const EVENTS = positiveInt(values.events, 10_000, "events");
  const SAMPLES = positiveInt(values.samples, values.quick ? 60 : 400, "samples");
  console.log(`Runtime: ${runtimeDescription()}, one workerd, storage in a temp folder.`);
  const build = await tempDir("bench-dashboard-");
  try {
    const config = await benchWorkerOptions(build.path);
    const worker = await startProject("dashboard", config);
    try {
      const db = await worker.db();
      const started = Date.now() - EVENTS * 1000;
      const events = Array.from({ length: EVENTS }, (_, i) =>
        event(TYPES[i % TYPES.length] as string, `0oaBENCH${i % 500}`, new Date(started + i * 1000)),
      );
      await postDeliveries(worker, deliveries(events, 100), 4);
      await pollUntil(() => count(db, "select count(*) as n from events where consumed_at is not null"), EVENTS, {
        intervalMs: 250,
        timeoutMs: 180_000,
        describe: async () =>
          `${await count(db, "select count(*) as n from events where consumed_at is not null")} consumed`,
      });

      const login = await fetch(new URL("/login", worker.url), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: worker.url.origin },
        body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
        redirect: "manual",
      });
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      if (login.status !== 303 || !cookie) throw new Error(`sign-in answered ${login.status}`);

      const page = { url: new URL("/events", worker.url), headers: { Cookie: cookie } };
      const api = {
        url: new URL("/api/events?limit=50", worker.url),
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      };
      for (let i = 0; i < 20; i++) {
        await timed(page.url, page.headers);
        await timed(api.url, api.headers);
      }
      const pageMs: number[] = [];
      const apiMs: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2 === 0) {
          pageMs.push(await timed(page.url, page.headers));
          apiMs.push(await timed(api.url, api.headers));
        } else {
          apiMs.push(await timed(api.url, api.headers));
          pageMs.push(await timed(page.url, page.headers));
        }
      }
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const stats = (xs: number[]) => ({ p50: percentile(sorted(xs), 0.5), p99: percentile(sorted(xs), 0.99) });
      const pageStats = stats(pageMs);
      const apiStats = stats(apiMs);
      const ratio = { p50: pageStats.p50 / apiStats.p50, p99: pageStats.p99 / apiStats.p99 };
      console.log(`\nEvents page vs /api/events, ${EVENTS} stored events, ${SAMPLES} samples each`);
      console.log(`Code: ${describeSource(config.source)}\n`);
      console.log(
        table(
          ["request", "p50 ms", "p99 ms"],
          [
            ["GET /events (page)", fixed(pageStats.p50, 2), fixed(pageStats.p99, 2)],
            ["GET /api/events?limit=50", fixed(apiStats.p50, 2), fixed(apiStats.p99, 2)],
            ["page / api", `${fixed(ratio.p50, 2)}x`, `${fixed(ratio.p99, 2)}x`],
          ],
        ),
      );
      const ok = ratio.p50 <= TARGET_RATIO && ratio.p99 <= TARGET_RATIO;
      console.log(`\nTarget: the page at most ${TARGET_RATIO}x the API call: ${ok ? "met" : "NOT met"}`);
      const file = await writeResults("dashboard", {
        machine: machine(),
        events: EVENTS,
        samples: SAMPLES,
        page: pageStats,
        api: apiStats,
        ratio,
      });
      console.log(`Results: ${file}`);
    } finally {
      await worker.stop();
    }
  } finally {
    await build.remove();
  }
  return 0;
}

runCli(HELP, main);
