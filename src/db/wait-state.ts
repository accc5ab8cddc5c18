/**
 * What a waiting run waits for, as D1 keeps it: enough to show it (the API, the
 * dashboard) and to register the wait again in a WaitRoom that lost it. Parsed on the
 * way out: the cron reads rows an older deploy may have written.
 */
import { z } from "zod";
import { Predicate } from "../workflows/predicate";

export const WaitingFor = z.object({
  nodeId: z.string().min(1),
  assetId: z.string().min(1),
  /** Empty means any of the 13 System Category types. */
  eventTypes: z.array(z.string()),
  filter: Predicate.nullable(),
  /** The deadline (ISO 8601), or null to wait without a timeout. */
  until: z.string().nullable(),
  /** Only events published after this one count: the event the run saw last. Absent in rows of older deploys. */
  after: z.object({ uuid: z.string(), eventDate: z.string() }).optional(),
  /** The named Okta org whose events may resume the run (null: the single-org hook). Absent in rows of older deploys. */
  source: z.string().nullable().optional(),
  /** Events the run has already taken; none resumes it again. Absent in rows of older deploys. */
  seen: z.array(z.string()).optional(),
});
export type WaitingFor = z.infer<typeof WaitingFor>;
