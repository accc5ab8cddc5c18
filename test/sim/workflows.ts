/**
 * The simulator's fixed workflows, in the repo's definition format (src/workflows/definition.ts).
 * Each is triggered by its own event type and filtered to one seed's assets, so seeds run
 * one after another in one D1 never see each other's events. Actions POST to a stand-in
 * endpoint whose path names the workflow and node, and whose query names the run.
 */
export const SIM_HOST = "https://sim-outside.example.test";

export const TYPES = {
  one: "system.sms.send_phone_verification_message",
  branch: "system.voice.send_phone_verification_call",
  wait: "system.api_token.create",
  waitFor: "system.api_token.revoke",
  triple: "system.org.rate_limit.warning",
  tripleFor: "system.org.rate_limit.violation",
  two: "system.import.start",
} as const;

export type WorkflowKey = "one" | "branch" | "wait" | "triple" | "two";
export const WORKFLOW_KEYS: readonly WorkflowKey[] = ["one", "branch", "wait", "triple", "two"];

/** Timeout of every event node: short enough that the sim sees it fire, long against normal delivery delay. */
export const WAIT_TIMEOUT_S = 600;

const action = (key: WorkflowKey, node: string, next: string | null = null) => ({
  kind: "action",
  // No retries inside the action: a failure defers the run, which is what the faults exercise.
  action: {
    type: "http",
    method: "POST",
    url: `${SIM_HOST}/${key}/${node}?run={{ run.id }}&asset={{ trigger.id }}`,
    retries: 0,
  },
  next,
});

const wait = (eventTypes: string[], next: string | null, onTimeout: string | null) => ({
  kind: "event",
  eventTypes,
  timeoutSeconds: WAIT_TIMEOUT_S,
  next,
  onTimeout,
});

type Node = Record<string, unknown> & { kind: string };

export interface SimWorkflow {
  key: WorkflowKey;
  trigger: string;
  start: string;
  nodes: Record<string, Node>;
  /** Cancel-on types: an event of one on the run's (source, asset), published no earlier than its trigger, ends it. */
  cancelOn?: string[];
}

export const SIM_WORKFLOWS: Record<WorkflowKey, SimWorkflow> = {
  one: { key: "one", trigger: TYPES.one, start: "call", nodes: { call: action("one", "call") } },
  branch: {
    key: "branch",
    trigger: TYPES.branch,
    start: "check",
    nodes: {
      check: {
        kind: "condition",
        when: { field: "eventResult", op: "eq", value: "SUCCESS" },
        true: "yes",
        false: null,
      },
      yes: action("branch", "yes"),
    },
  },
  // Cancelled by a rate-limit violation on the same asset (a triple story's event, when the
  // two stories share an asset and source): cancel-on against waits, resumes and timeouts.
  wait: {
    key: "wait",
    trigger: TYPES.wait,
    cancelOn: [TYPES.tripleFor],
    start: "await",
    nodes: {
      await: wait([TYPES.waitFor], "revoked", "expired"),
      revoked: action("wait", "revoked"),
      expired: action("wait", "expired"),
    },
  },
  // Three waits for the same type: what one event may resume only once (finding 5).
  triple: {
    key: "triple",
    trigger: TYPES.triple,
    start: "w1",
    nodes: {
      w1: wait([TYPES.tripleFor], "w2", null),
      w2: wait([TYPES.tripleFor], "w3", null),
      w3: wait([TYPES.tripleFor], "done", null),
      done: action("triple", "done"),
    },
  },
  // Two actions in a row: a consumer that lost its lease must not call the second (finding 8).
  two: {
    key: "two",
    trigger: TYPES.two,
    start: "first",
    nodes: { first: action("two", "first", "second"), second: action("two", "second") },
  },
};

/** The definition the API takes, filtered to the assets of one seed (`prefix`). */
export function definitionOf(workflow: SimWorkflow, prefix: string): Record<string, unknown> {
  return {
    name: `sim ${workflow.key} ${prefix}`,
    trigger: { eventTypes: [workflow.trigger], filter: { field: "id", op: "startsWith", value: prefix } },
    ...(workflow.cancelOn ? { cancelOn: { eventTypes: workflow.cancelOn } } : {}),
    start: workflow.start,
    nodes: workflow.nodes,
  };
}
