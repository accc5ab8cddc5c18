CREATE TABLE `suppressed_events` (
	`workflow_id` text NOT NULL,
	`event_uuid` text NOT NULL,
	`run_id` text NOT NULL,
	`suppressed_at` text NOT NULL,
	PRIMARY KEY(`workflow_id`, `event_uuid`)
);
--> statement-breakpoint
CREATE INDEX `suppressed_events_by_run` ON `suppressed_events` (`run_id`,`suppressed_at`);--> statement-breakpoint
CREATE INDEX `suppressed_events_by_event` ON `suppressed_events` (`event_uuid`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`workflow_id` text NOT NULL,
	`scope` text NOT NULL,
	`run_id` text NOT NULL,
	`event_uuid` text NOT NULL,
	`started_at` text NOT NULL,
	`until` text NOT NULL,
	PRIMARY KEY(`workflow_id`, `scope`)
);
--> statement-breakpoint
CREATE INDEX `suppressions_by_until` ON `suppressions` (`until`);--> statement-breakpoint
CREATE INDEX `suppressions_by_run` ON `suppressions` (`run_id`);