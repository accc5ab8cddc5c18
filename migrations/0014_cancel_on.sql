CREATE TABLE `cancel_on_types` (
	`event_type` text NOT NULL,
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`event_type`, `workflow_id`, `version`)
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `cancelled_by` text;--> statement-breakpoint
CREATE INDEX `runs_by_workflow_asset` ON `runs` (`workflow_id`,`asset_id`,`status`);--> statement-breakpoint
CREATE INDEX `runs_cancelled_by` ON `runs` (`cancelled_by`) WHERE "runs"."cancelled_by" is not null;