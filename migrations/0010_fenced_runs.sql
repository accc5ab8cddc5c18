DROP INDEX `events_not_consumed`;--> statement-breakpoint
ALTER TABLE `events` ADD `abandoned_at` text;--> statement-breakpoint
CREATE INDEX `events_not_consumed` ON `events` (`event_timestamp`) WHERE "events"."consumed_at" is null and "events"."abandoned_at" is null;--> statement-breakpoint
ALTER TABLE `runs` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `lease_message` text;--> statement-breakpoint
-- WaitRooms are now named by (source, asset) (src/durable/wait-rooms.ts). A run paused in a
-- room named by its asset alone is moved by the cron's next pass: cancelled there, registered
-- again in its scoped room from D1's copy of the wait.
UPDATE `runs` SET `repair_after` = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE `status` = 'waiting' AND `wait_room` IS NOT NULL AND substr(`wait_room`, 1, 1) <> '[';
