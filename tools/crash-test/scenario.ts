/**
 * What the crash test asks of the service: two workflows, and per asset the deliveries
 * Okta sends (a trigger, and for act-wait-act runs the awaited event).
 */
import { type Delivery, delivery } from "./okta-sender";
import type { AssetPlan } from "./verdict";

const TRIGGER = "system.import.start";
const AWAITED = "system.import.complete";
const TIMEOUT_TRIGGER = "system.api_token.create";
const NEVER_SENT = "system.api_token.revoke";
/** Asset ids of act-wait-act runs start with this; those of timeout runs with "crash-t-". */
export const RESUME_PREFIX = "crash-r-";
const TIMEOUT_PREFIX = "crash-t-";

/** The two workflows, for POST /api/workflows; every action posts to `receiver`/<node>/<asset>. */
export function workflows(receiver: string, timeoutSeconds: number) {
  const act = (node: string, next: string | null) => ({
    kind: "action",
    action: { type: "http", method: "POST", url: `${receiver}/${node}/{{ trigger.id }}`, retries: 0 },
    next,
  });
  return [
    {
      name: "crash test: act, wait, act",
      trigger: { eventTypes: [TRIGGER], filter: { field: "id", op: "startsWith", value: RESUME_PREFIX } },
      start: "first",
      nodes: {
        first: act("first", "wait"),
        wait: { kind: "event", eventTypes: [AWAITED], timeoutSeconds: 86_400, next: "second", onTimeout: null },
        second: act("second", null),
      },
    },
    {
      name: "crash test: wait, act on timeout",
      trigger: { eventTypes: [TIMEOUT_TRIGGER], filter: { field: "id", op: "startsWith", value: TIMEOUT_PREFIX } },
      start: "wait",
      nodes: {
        wait: { kind: "event", eventTypes: [NEVER_SENT], timeoutSeconds, next: null, onTimeout: "page" },
        page: act("page", null),
      },
    },
  ];
}

export interface Scenario {
  /** One delivery per run: `runs` act-wait-act triggers, then `timeouts` timeout triggers. */
  triggers: Delivery[];
  /** The awaited event of each act-wait-act run. */
  awaited: Delivery[];
}

export function scenario(runs: number, timeouts: number): Scenario {
  const resumeAssets = Array.from({ length: runs }, (_, i) => `${RESUME_PREFIX}${i}`);
  const timeoutAssets = Array.from({ length: timeouts }, (_, i) => `${TIMEOUT_PREFIX}${i}`);
  return {
    triggers: [
      ...resumeAssets.map((asset) => delivery(TRIGGER, asset)),
      ...timeoutAssets.map((asset) => delivery(TIMEOUT_TRIGGER, asset)),
    ],
    awaited: resumeAssets.map((asset) => delivery(AWAITED, asset)),
  };
}

/** Each asset's plan, from which of its deliveries were accepted in the end. */
export function plans({ triggers, awaited }: Scenario): AssetPlan[] {
  const awaitedAccepted = new Map(awaited.map((d) => [d.event.assetId, d.accepted]));
  return triggers.map((d) => ({
    assetId: d.event.assetId,
    kind: d.event.assetId.startsWith(RESUME_PREFIX) ? "resume" : "timeout",
    triggerAccepted: d.accepted,
    awaitedAccepted: awaitedAccepted.get(d.event.assetId) ?? false,
  }));
}
