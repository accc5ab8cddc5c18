/** The Worker's entry points: HTTP (Okta hook, API), the events queue consumer and the cron. */
import { app } from "./app";
import { handleQueue } from "./consumer";
import { handleScheduled } from "./scheduled";

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, unknown>;
