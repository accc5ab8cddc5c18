CREATE TABLE `waited_event_types` (
	`event_type` text PRIMARY KEY NOT NULL
);
