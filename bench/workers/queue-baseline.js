/**
 * Baseline for the consumer and resume benchmarks: the least durable work a one-action
 * run needs, and none of our logic. `POST /enqueue {"tag", "count"}` sends `count`
 * messages (sendBatch of 100). The queue consumer (batches of 100, max_batch_timeout 0,
 * set by bench/lib/baseline.ts) writes one D1 row per message and makes one `fetch`
 * per message to the benchmark's receiver, `POST {RECEIVER_URL}/baseline/{tag}/{id}`,
 * then acks it. MODE "statement" (the benchmarks' reference): one D1 statement per
 * message, the messages of a batch one after another. MODE "concurrent": the same, the
 * messages of a batch all at once. MODE "batch": one D1 batch with all of a queue
 * batch's rows, then the fetches all at once.
 * Plain JS like the other benchmark Workers, so the Node-side typecheck never sees
 * Workers types.
 */
const INSERT = "insert into baseline_runs (id, tag, body, created_at) values (?, ?, ?, ?)";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/setup") {
      await env.DB.prepare(
        "create table if not exists baseline_runs (id text primary key, tag text not null, body text not null, created_at text not null)",
      ).run();
      return new Response(null, { status: 204 });
    }
    if (request.method === "POST" && url.pathname === "/enqueue") {
      const { tag, count } = await request.json();
      for (let i = 0; i < count; i += 100) {
        const size = Math.min(100, count - i);
        await env.JOBS.sendBatch(
          Array.from({ length: size }, (_, j) => ({ body: { tag, id: `${tag}-${i + j}` }, contentType: "json" })),
        );
      }
      return new Response(null, { status: 204 });
    }
    return new Response(null, { status: 404 });
  },

  async queue(batch, env) {
    const now = () => new Date().toISOString();
    const insert = (message) =>
      env.DB.prepare(INSERT).bind(message.body.id, message.body.tag, JSON.stringify(message.body), now());
    const call = async (message) => {
      const res = await fetch(`${env.RECEIVER_URL}/baseline/${message.body.tag}/${message.body.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": message.body.id },
        body: JSON.stringify(message.body),
      });
      await res.arrayBuffer();
    };
    if (env.MODE === "batch") {
      await env.DB.batch(batch.messages.map(insert));
      await Promise.all(batch.messages.map(call));
      batch.ackAll();
      return;
    }
    if (env.MODE === "statement") {
      for (const message of batch.messages) {
        await insert(message).run();
        await call(message);
        message.ack();
      }
      return;
    }
    await Promise.all(
      batch.messages.map(async (message) => {
        await insert(message).run();
        await call(message);
        message.ack();
      }),
    );
  },
};
