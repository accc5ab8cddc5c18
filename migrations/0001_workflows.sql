CREATE TABLE `run_steps` (
	`run_id` text NOT NULL,
	`node_id` text NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`outcome` text,
	`output` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`started_at` text NOT NULL,
	`ended_at` text,
	PRIMARY KEY(`run_id`, `node_id`)
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`workflow_id` text NOT NULL,
	`workflow_version` integer NOT NULL,
	`trigger_event_uuid` text NOT NULL,
	`asset_id` text,
	`status` text NOT NULL,
	`waiting_for` text,
	`error` text,
	`started_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`ended_at` text,
	`lease_until` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_by_trigger` ON `runs` (`workflow_id`,`trigger_event_uuid`);--> statement-breakpoint
CREATE INDEX `runs_by_started` ON `runs` (`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_by_status` ON `runs` (`status`,`started_at`);--> statement-breakpoint
CREATE INDEX `runs_by_asset` ON `runs` (`asset_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `workflow_triggers` (
	`event_type` text NOT NULL,
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	PRIMARY KEY(`event_type`, `workflow_id`)
);
--> statement-breakpoint
CREATE INDEX `workflow_triggers_by_workflow` ON `workflow_triggers` (`workflow_id`);--> statement-breakpoint
CREATE TABLE `workflow_versions` (
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`workflow_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `workflows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`enabled` integer NOT NULL,
	`current_version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text
);
