ALTER TABLE `events` ADD `client_ip` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `counted` text;