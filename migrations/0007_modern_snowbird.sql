CREATE TABLE `replayed_runs` (
	`workflow_id` text NOT NULL,
	`trigger_event_uuid` text NOT NULL,
	`replay_id` text NOT NULL,
	`requested_at` text NOT NULL,
	PRIMARY KEY(`workflow_id`, `trigger_event_uuid`)
);
--> statement-breakpoint
CREATE INDEX `replayed_runs_by_replay` ON `replayed_runs` (`replay_id`);