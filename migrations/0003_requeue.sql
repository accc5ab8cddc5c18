DROP INDEX `events_not_enqueued`;--> statement-breakpoint
ALTER TABLE `events` ADD `requeue_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `events_not_consumed` ON `events` (`event_timestamp`) WHERE "events"."consumed_at" is null;