/**
 * Baseline (b'), for `--diagnose`: the minimal Worker's I/O for every event of a delivery,
 * to tell how much of a 50-event delivery's cost is the I/O itself. Parses the JSON, inserts
 * one row per event into the same `events` table (one D1 batch, raw event kept as JSON) and
 * sends one queue message per event (one sendBatch). No auth, no validation, no delivery row,
 * no dedup, no normalising. Its queue consumer only acknowledges the batch.
 */
export default {
  async fetch(request, env) {
    const body = await request.json();
    const now = new Date().toISOString();
    const insert = env.DB.prepare(
      `insert into events (uuid, delivery_id, event_type, event_date, event_timestamp, in_category, raw)
       values (?, ?, ?, ?, ?, 1, ?)`,
    );
    const events = body.data.events;
    await env.DB.batch(
      events.map((event) =>
        insert.bind(event.uuid, body.eventId, event.eventType, event.published, now, JSON.stringify(event)),
      ),
    );
    await env.EVENTS.sendBatch(
      events.map((event) => ({ body: { uuid: event.uuid, eventType: event.eventType }, contentType: "json" })),
    );
    return new Response(null, { status: 200 });
  },

  async queue(batch) {
    batch.ackAll();
  },
};
