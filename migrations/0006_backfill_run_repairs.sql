-- Runs started before repair_after existed: let the cron look at the active ones, and
-- remember which WaitRoom a waiting one is paused in.
UPDATE `runs` SET `repair_after` = strftime('%Y-%m-%dT%H:%M:%fZ', `updated_at`, '+15 minutes')
WHERE `status` IN ('running', 'waiting') AND `repair_after` IS NULL;
--> statement-breakpoint
UPDATE `runs` SET `wait_room` = json_extract(`waiting_for`, '$.assetId')
WHERE `status` = 'waiting' AND `wait_room` IS NULL;
