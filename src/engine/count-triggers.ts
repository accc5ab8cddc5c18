/**
 * Threshold triggers on the event path: the matched events of workflows whose trigger
 * counts (workflows/threshold.ts) go to their key's EventCounter, one call per key per
 * batch, and only the events that complete a window start a run. The key is scoped to
 * the Okta org (`source`), as WaitRooms are: the same IP or URL pattern in two orgs is
 * two keys. An event with no value for the key (or for `distinct`) is not counted.
 */
import { type EventCounter, type Fired, MAX_BATCH } from "../durable/event-counter";
import type { EventMessage } from "../queue/messages";
import { type CountedEvents, countValue, type Threshold } from "../workflows/threshold";

export interface CountCandidate {
  workflowId: string;
  threshold: Threshold;
}

interface Group {
  workflowId: string;
  key: string;
  threshold: Threshold;
  events: EventMessage[];
}

/** The counter of one key: a JSON triple, so no workflow, source or key can be read as another. */
export function counterName(workflowId: string, source: string | null | undefined, key: string): string {
  return JSON.stringify([workflowId, source ?? null, key]);
}

function counterNamed(env: Env, name: string): DurableObjectStub<EventCounter> {
  return env.EVENT_COUNTERS.get(env.EVENT_COUNTERS.idFromName(name));
}

/**
 * Counts `matched` (an event with a threshold workflow its trigger matched, in arrival
 * order) and returns what fired, with what the run carries, and the uuids of events
 * whose counter could not be reached: those must not be recorded consumed, and their
 * messages are retried (a repeat counts once).
 */
export async function countMatches(
  env: Env,
  matched: ReadonlyArray<{ event: EventMessage; candidate: CountCandidate }>,
): Promise<{ fired: Array<{ event: EventMessage; workflowId: string; counted: CountedEvents }>; failed: Set<string> }> {
  const groups = new Map<string, Group>();
  for (const { event, candidate } of matched) {
    const key = countValue(candidate.threshold.by, event.fields, event.context);
    if (key === null || key === "") continue;
    const name = counterName(candidate.workflowId, event.fields.source, key);
    const group = groups.get(name) ?? { ...candidate, key, events: [] };
    group.events.push(event);
    groups.set(name, group);
  }
  const fired: Array<{ event: EventMessage; workflowId: string; counted: CountedEvents }> = [];
  const failed = new Set<string>();
  await Promise.all(
    [...groups].map(async ([name, group]) => {
      const { threshold } = group;
      const byUuid = new Map(group.events.map((event) => [event.uuid, event]));
      try {
        for (let i = 0; i < group.events.length; i += MAX_BATCH) {
          const answer = await counterNamed(env, name).count({
            rule: { count: threshold.count, withinMs: threshold.withinSeconds * 1000, distinct: !!threshold.distinct },
            events: group.events.slice(i, i + MAX_BATCH).map((event) => ({
              uuid: event.uuid,
              at: Date.parse(event.fields.eventDate),
              value: threshold.distinct ? countValue(threshold.distinct, event.fields, event.context) : null,
            })),
          });
          for (const fire of answer.fired) {
            const event = byUuid.get(fire.uuid);
            if (event) fired.push({ event, workflowId: group.workflowId, counted: countedOf(group, fire) });
          }
        }
      } catch (err) {
        console.error(JSON.stringify({ msg: "EventCounter call failed; its events are retried", error: String(err) }));
        for (const event of group.events) failed.add(event.uuid);
      }
    }),
  );
  return { fired, failed };
}

function countedOf(group: Group, fire: Fired): CountedEvents {
  return {
    key: group.key,
    by: group.threshold.by,
    distinct: group.threshold.distinct ?? null,
    n: fire.counted.length,
    withinSeconds: group.threshold.withinSeconds,
    events: fire.counted.map((e) => ({ uuid: e.uuid, eventDate: new Date(e.at).toISOString(), value: e.value })),
  };
}
