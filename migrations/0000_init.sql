CREATE TABLE `deliveries` (
	`event_id` text PRIMARY KEY NOT NULL,
	`source` text,
	`event_time` text,
	`received_at` text NOT NULL,
	`event_count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`uuid` text PRIMARY KEY NOT NULL,
	`delivery_id` text NOT NULL,
	`asset_id` text,
	`asset_type` text,
	`asset_alternate_id` text,
	`asset_display_name` text,
	`event_type` text NOT NULL,
	`event_result` text,
	`event_date` text NOT NULL,
	`event_timestamp` text NOT NULL,
	`in_category` integer NOT NULL,
	`actor` text,
	`outcome_reason` text,
	`display_message` text,
	`raw` text NOT NULL,
	`enqueued_at` text,
	`consumed_at` text
);
--> statement-breakpoint
CREATE INDEX `events_by_date` ON `events` (`event_date`,`uuid`);--> statement-breakpoint
CREATE INDEX `events_by_type_date` ON `events` (`event_type`,`event_date`,`uuid`);--> statement-breakpoint
CREATE INDEX `events_by_asset_date` ON `events` (`asset_id`,`event_date`,`uuid`);--> statement-breakpoint
CREATE INDEX `events_not_enqueued` ON `events` (`event_timestamp`) WHERE "events"."enqueued_at" is null;