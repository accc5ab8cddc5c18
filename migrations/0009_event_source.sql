ALTER TABLE `events` ADD `source` text;--> statement-breakpoint
CREATE INDEX `events_by_source_date` ON `events` (`source`,`event_date`,`uuid`);