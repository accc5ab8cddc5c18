/** The Worker's entry points: HTTP (Okta hook, API), the events queue consumer, the cron, and the WaitRoom. */
import { app } from "./app";
import { handleQueue } from "./consumer";
import { handleScheduled } from "./scheduled";

export { WaitRoom } from "./durable/wait-room";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
