CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`body` text,
	`message_id` text,
	`attempts` integer,
	`received_at` text NOT NULL,
	`redriven_at` text
);
--> statement-breakpoint
CREATE INDEX `dead_letters_by_received` ON `dead_letters` (`received_at`,`id`);--> statement-breakpoint
CREATE INDEX `deliveries_by_received` ON `deliveries` (`received_at`);