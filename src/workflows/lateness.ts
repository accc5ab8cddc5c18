/**
 * Whether a run started late: the run's start minus its trigger event's `published`
 * time, against the workflow's limit (`lateAfterSeconds`, default one hour). An event
 * delivered live starts its run within seconds; one that waited in a backlog, came
 * from a backfill or a replay, starts it hours or days later, and an alert should say
 * so. Computed from stored data (the run's trigger fields and start), never stored. Pure.
 */

/** The default limit: an Okta Event Hook arrives in seconds, so a run an hour behind its event is late. */
export const DEFAULT_LATE_AFTER_SECONDS = 3600;

export interface Lateness {
  late: boolean;
  /** Seconds from the event's published time to the run's start; 0 when Okta's clock was ahead. */
  lateBySeconds: number;
  /** The same, for people: "45 s", "12 min", "26 h", "3 d". */
  lateBy: string;
  lateAfterSeconds: number;
}

export function lateness(
  publishedAt: string,
  startedAt: string,
  lateAfterSeconds: number = DEFAULT_LATE_AFTER_SECONDS,
): Lateness {
  const ms = Date.parse(startedAt) - Date.parse(publishedAt);
  const lateBySeconds = Number.isFinite(ms) ? Math.max(0, Math.floor(ms / 1000)) : 0;
  return {
    late: lateBySeconds > lateAfterSeconds,
    lateBySeconds,
    lateBy: formatDelay(lateBySeconds),
    lateAfterSeconds,
  };
}

/** A delay rounded down to one unit: seconds under 2 min, minutes under 2 h, hours under 3 days, then days. */
export function formatDelay(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 72 * 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/** The template values `run.late`, `run.lateBy` and `run.lateBySeconds` of a run started at `startedAt`. */
export function lateValues(
  trigger: { eventDate: string },
  startedAt: string,
  definition: { lateAfterSeconds?: number },
): { late: boolean; lateBy: string; lateBySeconds: number } {
  const { late, lateBy, lateBySeconds } = lateness(trigger.eventDate, startedAt, definition.lateAfterSeconds);
  return { late, lateBy, lateBySeconds };
}
