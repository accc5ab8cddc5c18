/** The Worker's entry points: HTTP (Okta hook, API), the events queue consumer, the cron, and the Durable Objects (WaitRoom, EventCounter, FailureLimiter). */
import { app } from "./app";
import { handleQueue } from "./consumer";
import { DEAD_LETTER_QUEUE, handleDeadLetters } from "./dead-letters";
import { handleScheduled } from "./scheduled";

export { EventCounter } from "./durable/event-counter";
export { WaitRoom } from "./durable/wait-room";
export { FailureLimiter } from "./limits/failure-limiter";

// Two queues, one handler: the dead-letter queue's batches go to its own consumer.
export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) =>
    batch.queue === DEAD_LETTER_QUEUE ? handleDeadLetters(batch, env) : handleQueue(batch, env, ctx),
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
