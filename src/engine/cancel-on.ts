/**
 * Cancel-on on the event path: which (event, workflow version) pairs a batch's events
 * cancel, and ending those runs before the events reach their WaitRooms. Cancelling
 * first is what makes an event that would both resume and cancel a run cancel it: its
 * wait is gone (or its resume refused by D1) before the WaitRoom can match the event.
 * The same statements go again into the transaction that starts runs
 * (route-events.ts), for runs that an event of the same batch starts.
 */

import { type CancelMatch, cancelledIn, cancelRunsStatements, storedCancellers } from "../db/cancel-runs";
import type { Db } from "../db/client";
import type { NewRun } from "../db/runs";
import type { findTriggeredAndWaited } from "../db/workflows";
import type { EventMessage } from "../queue/messages";
import { cancelOnMatches } from "../workflows/cancel-on";
import { loadDefinitions } from "./definitions";
import { logRunsCancelled } from "./log";
import { cancelWaits } from "./terminate";
import type { EngineDeps } from "./types";

type CancelRows = Awaited<ReturnType<typeof findTriggeredAndWaited>>["cancelling"];

/** A cancel-on match of `event` for a workflow version. */
function matchOf(workflowId: string, version: number, event: EventMessage, assetId: string): CancelMatch {
  return {
    workflowId,
    version,
    event: { uuid: event.uuid, eventDate: event.fields.eventDate, source: event.fields.source ?? null, assetId },
  };
}

/** The pairs these events cancel, by each version's own rule (types, then filter). */
export async function cancelMatchesOf(
  db: Db,
  events: readonly EventMessage[],
  rows: CancelRows,
): Promise<CancelMatch[]> {
  if (rows.length === 0) return [];
  const definitions = await loadDefinitions(db, rows);
  const byType = Map.groupBy(definitions, (row) => row.eventType);
  return events.flatMap((event) => {
    const assetId = event.fields.id;
    if (!assetId) return [];
    return (byType.get(event.fields.eventType) ?? [])
      .filter(({ definition }) => definition.cancelOn && cancelOnMatches(definition.cancelOn, event.fields))
      .map(({ workflowId, version }) => matchOf(workflowId, version, event, assetId));
  });
}

/**
 * Cancels, in one D1 batch, the runs `matches` cancel, then their waits in their
 * WaitRooms (a cancel that fails there is retried by the cron, which finds ended runs
 * still naming a WaitRoom). Returns the ids of the runs it ended.
 */
export async function cancelMatched(deps: EngineDeps, matches: readonly CancelMatch[]): Promise<string[]> {
  if (matches.length === 0) return [];
  const now = deps.now();
  const statements = matches.flatMap((match) => cancelRunsStatements(deps.db, match, now));
  const [first, ...rest] = statements;
  if (!first) return [];
  const results = await deps.db.batch([first, ...rest]);
  const ended = cancelledIn(results);
  logRunsCancelled(
    ended.map((run) => run.id),
    [...new Set(matches.map((m) => m.event.uuid))],
  );
  await cancelWaits(deps.db, deps.env, ended);
  return ended.map((run) => run.id);
}

/**
 * The look-back for runs about to start: a stored event that cancels a new run already
 * (published after its trigger but delivered before it, or in its batch) is matched
 * now, so the run ends `cancelled` in the transaction that starts it, as a waiting run
 * would have. The first such event (by published time) names the cancel.
 */
export async function cancelsOfNewRuns(db: Db, newRuns: readonly NewRun[]): Promise<CancelMatch[]> {
  const withAsset = newRuns.flatMap((run) =>
    run.assetId ? [{ run, assetId: run.assetId, workflowId: run.workflowId, version: run.workflowVersion }] : [],
  );
  const ruled = (await loadDefinitions(db, withAsset)).flatMap(({ definition, ...rest }) =>
    definition.cancelOn ? [{ ...rest, cancelOn: definition.cancelOn }] : [],
  );
  const found = await Promise.all(
    ruled.map(async ({ run, assetId, cancelOn }) => {
      const stored = await storedCancellers(db, {
        assetId,
        source: run.trigger.source ?? null,
        types: cancelOn.eventTypes,
        since: run.trigger.eventDate,
        except: run.triggerEventUuid,
      });
      const first = stored.find((event) => cancelOnMatches(cancelOn, event.fields));
      return first ? [matchOf(run.workflowId, run.workflowVersion, first, assetId)] : [];
    }),
  );
  return found.flat();
}

/** Each (workflow version, event) once: the same statement twice in a batch ends nothing more. */
export function uniqueMatches(matches: readonly CancelMatch[]): CancelMatch[] {
  return [...new Map(matches.map((m) => [JSON.stringify([m.workflowId, m.version, m.event.uuid]), m])).values()];
}
