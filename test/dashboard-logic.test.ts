/** The dashboard's pure parts: placing definition problems, the dry run, the diagram's marks. */
import { describe, expect, it } from "vitest";
import type { EventFields } from "../src/okta/event-fields";
import { checkDefinitionText } from "../src/ui/definition-problems";
import { layoutWorkflow } from "../src/ui/diagram/layout";
import { link } from "../src/ui/link";
import type { WorkflowDefinition } from "../src/workflows/definition";
import { type DryEvent, dryRun } from "../src/workflows/dry-run";
import { parseDefinition } from "../src/workflows/validate";
import { eventFields } from "./event-fields";

function definition(input: unknown): WorkflowDefinition {
  const parsed = parseDefinition(input);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.definition;
}

const revokeOnCreate = definition({
  name: "Revoke",
  trigger: { eventTypes: ["system.api_token.create"] },
  start: "check",
  nodes: {
    check: { kind: "condition", when: { field: "eventResult", op: "eq", value: "SUCCESS" }, true: "call", false: null },
    call: {
      kind: "action",
      action: {
        type: "http",
        method: "POST",
        url: "https://hooks.example.com/revoke/{{ trigger.id }}",
        headers: { Authorization: { secret: "PARTNER_TOKEN", prefix: "Bearer " } },
        body: { token: "{{ trigger.id }}" },
      },
      next: null,
    },
  },
});

describe("link", () => {
  it("percent-encodes every value, in a path segment or a query value, and keeps the literal text", () => {
    const uuid = "evt?x=1#frag/a b&c";
    expect(link`/events/${uuid}`).toBe("/events/evt%3Fx%3D1%23frag%2Fa%20b%26c");
    expect(link`/runs?workflowId=${uuid}&status=${"waiting"}`).toBe(
      "/runs?workflowId=evt%3Fx%3D1%23frag%2Fa%20b%26c&status=waiting",
    );
    expect(link`/workflows/${"w"}/versions/${3}`).toBe("/workflows/w/versions/3");
  });
});

describe("checkDefinitionText", () => {
  it("places every schema problem at its line and column", () => {
    const text = '{\n  "name": "x",\n  "trigger": { "eventTypes": ["nope"] },\n  "start": 5\n}';
    const result = checkDefinitionText(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.line, p.column])).toEqual([
      [3, 31],
      [4, 3],
    ]);
    expect(result.problems[0]?.message).toContain("trigger.eventTypes[0]: unknown event type");
  });

  it("places a graph problem on the edge that names the unknown node", () => {
    const text = JSON.stringify(
      {
        name: "x",
        trigger: {},
        start: "a",
        nodes: { a: { kind: "condition", when: { field: "id", op: "exists" }, true: "b" } },
      },
      null,
      2,
    );
    const result = checkDefinitionText(text);
    if (result.ok) throw new Error("expected a problem");
    const [problem] = result.problems;
    expect(problem?.message).toBe("nodes.a.true: refers to unknown node 'b'");
    expect(text.split("\n")[(problem?.line ?? 0) - 1]).toContain('"true": "b"');
  });

  it("reports JSON syntax errors with their place, an empty document too", () => {
    const result = checkDefinitionText('{\n  "name": "x",\n}');
    if (result.ok) throw new Error("expected a problem");
    expect(result.problems[0]).toMatchObject({ line: 3, column: 1, message: "JSON: PropertyNameExpected" });
    const empty = checkDefinitionText("  ");
    expect(empty.ok ? [] : empty.problems.map((p) => [p.line, p.message])).toEqual([[1, "JSON: ValueExpected"]]);
  });

  it("returns the definition as saving would store it", () => {
    const result = checkDefinitionText(JSON.stringify({ name: " x ", trigger: {}, start: null }));
    expect(result.ok && result.definition).toMatchObject({
      name: "x",
      trigger: { category: "okta.system", eventTypes: [] },
    });
  });
});

describe("dryRun", () => {
  const declared = { WORKFLOW_SECRETS: JSON.stringify({ PARTNER_TOKEN: ["https://hooks.example.com"] }) };
  const env = { ...declared, PARTNER_TOKEN: "s3cret-partner-token" };
  const trigger = {
    uuid: "e1",
    fields: eventFields({ eventType: "system.api_token.create", id: "00Tabc", eventResult: "SUCCESS" }),
  };

  it("follows the branches and shows the request it would send, with secrets redacted", () => {
    const run = dryRun(revokeOnCreate, { trigger, env, workflowId: "w" });
    expect(run.end).toBe("completed");
    expect(run.steps.map((s) => s.nodeId)).toEqual(["check", "call"]);
    const call = run.steps[1];
    expect(call?.kind === "action" && call.request).toMatchObject({
      method: "POST",
      url: "https://hooks.example.com/revoke/00Tabc",
      body: '{"token":"00Tabc"}',
    });
    expect(JSON.stringify(run)).not.toContain("s3cret-partner-token");
    expect(JSON.stringify(run)).toContain("Bearer [redacted]");
  });

  it("stops where a real run would fail, and says when the trigger does not match", () => {
    expect(dryRun(revokeOnCreate, { trigger, env: declared, workflowId: "w" })).toMatchObject({
      end: "failed",
      steps: [
        { nodeId: "check" },
        { nodeId: "call", error: expect.stringContaining("secret PARTNER_TOKEN is not set") },
      ],
    });
    const other = { uuid: "e2", fields: eventFields({ eventType: "system.import.start" }) };
    expect(dryRun(revokeOnCreate, { trigger: other, env, workflowId: "w" })).toEqual({
      triggered: false,
      steps: [],
      end: "not_triggered",
    });
  });

  it("resumes an event node with a matching event on the same asset, else takes the timeout path", () => {
    const waits = definition({
      name: "w",
      trigger: { eventTypes: ["system.import.start"] },
      start: "wait",
      nodes: { wait: { kind: "event", eventTypes: ["system.import.complete"], timeoutSeconds: 60, next: null } },
    });
    const start = { uuid: "s", fields: eventFields({ eventType: "system.import.start", id: "0oa1" }) };
    const complete = (id: string) => ({ uuid: "c", fields: eventFields({ eventType: "system.import.complete", id }) });
    expect(dryRun(waits, { trigger: start, resume: complete("0oa1"), env, workflowId: "w" }).end).toBe("completed");
    expect(dryRun(waits, { trigger: start, resume: complete("0oaOTHER"), env, workflowId: "w" }).end).toBe("timed_out");
  });

  it("ends cancelled where the resume event matches the cancel-on rule, even one the wait accepts", () => {
    const sla = definition({
      name: "sla",
      trigger: { eventTypes: ["access.request.create"] },
      cancelOn: { eventTypes: ["access.request.resolve"] },
      start: "wait",
      nodes: { wait: { kind: "event", eventTypes: ["access.request.resolve"], timeoutSeconds: 60, next: null } },
    });
    const submit = { uuid: "s", fields: eventFields({ eventType: "access.request.create", id: "req1" }) };
    const resolve = (overrides: Partial<EventFields>) => ({
      uuid: "r",
      fields: eventFields({ eventType: "access.request.resolve", id: "req1", ...overrides }),
    });
    const run = (resume: DryEvent) => dryRun(sla, { trigger: submit, resume, env, workflowId: "w" });
    expect(run(resolve({}))).toMatchObject({ end: "cancelled", steps: [{ nodeId: "wait", outcome: "cancelled" }] });
    // Another org's event on the same id, and one published before the request, do not cancel.
    expect(run(resolve({ source: "globex" })).end).not.toBe("cancelled");
    expect(run(resolve({ eventDate: "2026-11-20T09:00:00.000Z" })).end).not.toBe("cancelled");
  });
});

describe("layoutWorkflow", () => {
  it("draws the trigger, every node, an end for each empty branch, and marks a run's path", () => {
    const diagram = layoutWorkflow(revokeOnCreate, {
      steps: [{ nodeId: "check", status: "succeeded", outcome: "false" }],
      waitingAt: null,
    });
    expect(diagram.nodes.map((n) => n.kind).sort()).toEqual(["action", "condition", "end", "end", "trigger"]);
    expect(diagram.edges.filter((e) => e.taken).map((e) => `${e.from}->${e.label || "next"}`)).toEqual([
      "__trigger->next",
      "check->False",
    ]);
    expect(diagram.nodes.find((n) => n.id === "call")?.state).toBe("idle");
    for (const node of diagram.nodes) {
      expect(node.x).toBeGreaterThanOrEqual(0);
      expect(node.x + node.width).toBeLessThanOrEqual(diagram.width);
    }
  });
});

describe("layoutWorkflow with cancel-on", () => {
  it("says on the trigger what cancels the run", () => {
    const diagram = layoutWorkflow({
      ...revokeOnCreate,
      cancelOn: {
        eventTypes: ["system.api_token.revoke"],
        filter: { field: "eventResult", op: "eq", value: "SUCCESS" },
        asset: "trigger",
      },
    });
    const trigger = diagram.nodes.find((n) => n.kind === "trigger");
    expect(trigger?.details.slice(-2)).toEqual(["cancelled by API token revoked", "where eventResult = SUCCESS"]);
  });
});
