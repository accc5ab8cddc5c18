ALTER TABLE `runs` ADD `not_before` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `wait_room` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `repair_after` text;--> statement-breakpoint
CREATE INDEX `runs_to_repair` ON `runs` (`repair_after`) WHERE "runs"."repair_after" is not null;