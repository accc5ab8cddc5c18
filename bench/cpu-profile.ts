/**
 * Samples the CPU of our Worker's isolate under a running benchmark, through workerd's
 * inspector, and prints where the time went (self time by function). This is how the
 * drizzle query builder was found to be a quarter of a run's CPU (src/db/compiled.ts).
 *
 *   BENCH_INSPECT=9330 npm run bench:resume -- --only throughput --runs 500 --spread 0 --repeats 1 &
 *   npx tsx bench/cpu-profile.ts 9330 3
 *
 *   BENCH_INSPECT=9340 BENCH_DURATION=12 npm run bench -- --quick --diagnose &
 *   npx tsx bench/cpu-profile.ts 9340 9            # once the run you want has started
 *
 * With BENCH_INSPECT set, bench/lib/runtime.ts opens the inspector of our Worker (never a
 * baseline's) on that port. Profiling starts when the Worker's isolate appears and lasts
 * SECONDS (default 3); the bundle's line numbers are those of the bundled index.js. ISOLATE
 * (default `core:user`) picks the first isolate of the same workerd whose title contains it,
 * such as Miniflare's `assets:router`, `d1:db:entry` or `queues:queue:okta-events`: this is
 * how the asset lookup in front of every hook request was found (bench/README.md, Ingress).
 * Several at once work; adding `d1:db` and `queues:queue` to them stalled a run once.
 */
import process from "node:process";

const [portArg, secondsArg, titleArg] = process.argv.slice(2);
/** Which isolate: our Worker's by default; e.g. `queues:queue:okta-events` for Miniflare's own queue service. */
const title = titleArg ?? "core:user";
const port = Number(portArg);
const seconds = Number(secondsArg ?? 3);
if (!Number.isInteger(port) || port <= 0 || !(seconds > 0)) {
  console.error("usage: npx tsx bench/cpu-profile.ts PORT [SECONDS [ISOLATE]]   (PORT as given in BENCH_INSPECT)");
  process.exit(2);
}

interface Target {
  title?: string;
  webSocketDebuggerUrl: string;
}
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ourIsolate(): Promise<Target> {
  for (let i = 0; i < 600; i++) {
    try {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Target[];
      const ours = targets.find((t) => (t.title ?? "").includes(title));
      if (ours) return ours;
    } catch {
      // Not listening yet: the benchmark is still starting its Worker.
    }
    await sleep(200);
  }
  throw new Error(`no Worker isolate on the inspector port ${port} after 2 minutes`);
}

const target = await ourIsolate();
const ws = new WebSocket(target.webSocketDebuggerUrl);
let lastId = 0;
const waiting = new Map<number, (result: unknown) => void>();
ws.onmessage = (message) => {
  const data = JSON.parse(String(message.data)) as { id?: number; result?: unknown };
  if (data.id !== undefined) waiting.get(data.id)?.(data.result);
};
const send = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve) => {
    lastId += 1;
    waiting.set(lastId, resolve as (result: unknown) => void);
    ws.send(JSON.stringify({ id: lastId, method, params }));
  });
await new Promise((resolve) => {
  ws.onopen = resolve;
});
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
await send("Profiler.start");
await sleep(seconds * 1000);
const { profile } = await send<{
  profile: { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number; timeDeltas: number[] };
}>("Profiler.stop");
ws.close();

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTime = new Map<string, number>();
for (const sample of profile.samples) {
  const frame = nodes.get(sample)?.callFrame;
  if (!frame) continue;
  const where = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").at(-1) ?? ""}:${frame.lineNumber}`;
  selfTime.set(where, (selfTime.get(where) ?? 0) + 1);
}
const total = profile.samples.length;
// Samples are taken only while the isolate runs (or is idle in it): their span against
// the wall clock says whether the isolate was the bottleneck or waited for others.
const sampledMs = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0) / 1000;
console.log(
  `${target.title}: ${total} samples over ${seconds} s, ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled, ` +
    `mean interval ${(sampledMs / Math.max(total, 1)).toFixed(2)} ms (self time, top 40)`,
);
const print = (counts: Map<string, number>) => {
  for (const [where, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${String(n).padStart(7)} ${((100 * n) / total).toFixed(1).padStart(5)}%  ${where}`);
  }
};
print(selfTime);

// Total time (self plus callees) says which of our calls a library's self time belongs
// to: a function is counted once per sample however often it recurses on the stack.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node: ProfileNode) =>
  `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.split("/").at(-1) ?? ""}:${node.callFrame.lineNumber}`;
const totalTime = new Map<string, number>();
for (const sample of profile.samples) {
  const onStack = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const node = nodes.get(id);
    if (node) onStack.add(label(node));
  }
  for (const where of onStack) totalTime.set(where, (totalTime.get(where) ?? 0) + 1);
}
console.log(`\ntotal time (self and callees), top 40`);
print(totalTime);
