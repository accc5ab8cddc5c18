/**
 * Baseline (b): the same I/O as one 1-event delivery of ours, and none of our logic.
 * Parses the JSON body, inserts one row into the same `events` table (same schema and
 * indexes, raw event kept as JSON) and sends one queue message. Its queue consumer
 * only acknowledges the batch. No auth, no validation, no dedup, no normalising.
 */
export default {
  async fetch(request, env) {
    const body = await request.json();
    const event = body.data.events[0];
    const now = new Date().toISOString();
    await env.DB.prepare(
      `insert into events (uuid, delivery_id, event_type, event_date, event_timestamp, in_category, raw)
       values (?, ?, ?, ?, ?, 1, ?)`,
    )
      .bind(event.uuid, body.eventId, event.eventType, event.published, now, JSON.stringify(event))
      .run();
    await env.EVENTS.send({ uuid: event.uuid, eventType: event.eventType }, { contentType: "json" });
    return new Response(null, { status: 200 });
  },

  async queue(batch) {
    batch.ackAll();
  },
};
