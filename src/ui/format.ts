/** How the dashboard words times, durations and event types. Pure. */
import { SYSTEM_CATEGORY_EVENT_TYPES } from "../okta/event-types";

const displayNames: ReadonlyMap<string, string> = new Map(
  SYSTEM_CATEGORY_EVENT_TYPES.map((t) => [t.eventType, t.displayName]),
);

/** "Import started" for system.import.start; other types as Okta names them. */
export function eventTypeName(eventType: string): string {
  return displayNames.get(eventType) ?? eventType;
}

/** "2026-11-30 03:36:12" (UTC): sortable, unambiguous, and the same on every viewer's screen. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").slice(0, 19);
}

/** "850 ms", "12 s", "4 min 5 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** The time from `start` to `end`, or to `now` while it is still going. */
export function durationBetween(start: string, end: string | null, now: Date): string {
  return formatDuration((end ? Date.parse(end) : now.getTime()) - Date.parse(start));
}

/** "in 1 h 59 min" or "5 min ago". */
export function relativeTime(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

/** The first characters of an id, enough to tell runs apart in a list. */
export const shortId = (id: string) => id.slice(0, 8);

/** "<input type=datetime-local>" value (UTC) to ISO 8601, or undefined when empty or invalid. */
export function fromLocalInput(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
