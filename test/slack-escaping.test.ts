/**
 * Okta text in Slack messages is text, never markup: every example workflow that posts
 * to Slack runs end to end (real hook, queue, consumer, WaitRooms) on events whose every
 * string field holds Slack control sequences, and every message it posts is checked as
 * captured by the outbound interceptor. Each Slack node of each example is reached (the
 * timeout paths by letting the clock pass the wait's deadline, the others through resume
 * events).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { waitRoomFor } from "../src/durable/wait-rooms";
import { EXAMPLES } from "../src/ui/examples";
import {
  type BuiltEvent,
  buildEvent,
  createWorkflow,
  deliver,
  interceptOutbound,
  newAssetId,
  onAsset,
  runOf,
  SLACK_URL,
  until,
} from "./workflow-support";

const outbound = interceptOutbound();
afterAll(() => outbound.restore());

/** A channel-wide ping, a user mention and a disguised link, as Slack's mrkdwn would read them. */
const PAYLOADS = ["<!channel>", "<@U123>", "<https://evil.example|Re-verify your Okta session>"];
const HOSTILE = PAYLOADS.join(" ");
const ESCAPED = "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|Re-verify your Okta session&gt;";

/** The asset type each example's events are about (the primary target normalisation picks). */
const ASSET_TYPES: Record<string, string> = {
  "system.api_token": "Token",
  "system.import": "AppInstance",
  "security.authenticator.lifecycle": "Authenticator",
  "access.request": "AccessRequest",
};
const assetTypeOf = (eventType: string) =>
  Object.entries(ASSET_TYPES).find(([prefix]) => eventType.startsWith(prefix))?.[1] ?? "User";

/**
 * An event whose every string field Okta fills from names an admin or a user chose is
 * hostile: the actor, every target (the asset's id too), the client, the outcome,
 * displayMessage, debugContext and the other contexts. Only what decides the run stays
 * plain: uuid, published, eventType and the targets' types.
 */
function hostileEvent(options: { eventType: string; assetId: string; namePrefix?: string }): BuiltEvent {
  const base = buildEvent({ eventType: options.eventType });
  return {
    ...base,
    displayMessage: HOSTILE,
    actor: { id: HOSTILE, type: "User", alternateId: HOSTILE, displayName: HOSTILE, detailEntry: null },
    target: [
      {
        id: options.assetId,
        type: assetTypeOf(options.eventType),
        alternateId: HOSTILE,
        displayName: `${options.namePrefix ?? ""}${HOSTILE}`,
        detailEntry: { note: HOSTILE },
      },
      { id: HOSTILE, type: "User", alternateId: HOSTILE, displayName: HOSTILE, detailEntry: null },
    ],
    client: {
      userAgent: { rawUserAgent: HOSTILE, os: HOSTILE, browser: HOSTILE },
      zone: HOSTILE,
      device: HOSTILE,
      id: HOSTILE,
      ipAddress: HOSTILE,
      geographicalContext: { city: HOSTILE, state: HOSTILE, country: HOSTILE, postalCode: HOSTILE },
    },
    outcome: { result: HOSTILE, reason: HOSTILE },
    transaction: { type: "WEB", id: HOSTILE, detail: { requestApiTokenId: HOSTILE } },
    debugContext: { debugData: { requestUri: HOSTILE, url: HOSTILE, requestId: HOSTILE, threatSuspected: HOSTILE } },
    authenticationContext: { authenticationStep: 0, externalSessionId: HOSTILE, credentialProvider: HOSTILE },
    securityContext: { asOrg: HOSTILE, isp: HOSTILE, domain: HOSTILE },
    request: { ipChain: [{ ip: HOSTILE, version: "V4", source: HOSTILE }] },
  };
}

/** An example's definition, started only by events on `assetId` (the tests share one D1). */
async function install(slug: string, assetId: string) {
  const example = EXAMPLES.find((e) => e.slug === slug);
  if (!example) throw new Error(`no example ${slug}`);
  const definition = structuredClone(example.definition) as {
    name: string;
    trigger: Record<string, unknown>;
  };
  return createWorkflow({
    ...definition,
    name: `${definition.name} ${assetId}`,
    trigger: { ...definition.trigger, filter: onAsset(assetId) },
  });
}

/** Slack nodes of an example, by id. */
function slackNodes(definition: unknown): string[] {
  const nodes = (definition as { nodes: Record<string, { kind: string; action?: { type: string } }> }).nodes;
  return Object.entries(nodes)
    .filter(([, node]) => node.kind === "action" && node.action?.type === "slack")
    .map(([id]) => id);
}

/** A fresh asset id carrying the payloads too; `marker` (its plain start) finds the messages about it. */
function hostileAsset() {
  const marker = newAssetId("asset");
  return { marker, assetId: `${marker}${HOSTILE}` };
}

/** What Slack was sent about the asset: the `text` of every post whose text names it. */
function postedAbout(marker: string): string[] {
  return outbound
    .to(SLACK_URL)
    .map((call) => (JSON.parse(call.body) as { text: string }).text)
    .filter((text) => text.includes(marker));
}

function expectOnlyText(texts: string[]): void {
  for (const text of texts) {
    for (const payload of PAYLOADS) {
      expect(text.toLowerCase()).not.toContain(payload.toLowerCase());
    }
    // The examples' own templates use no <…> markup, so no "<" or ">" may reach Slack at all.
    expect(text).not.toMatch(/[<>]/);
    expect(text).toContain(ESCAPED);
  }
}

/** Runs the scenario and returns the Slack nodes its runs executed. */
type Scenario = () => Promise<{ marker: string; nodes: string[]; posts: number }>;

async function ranNodes(workflowId: string, uuid: string): Promise<string[]> {
  const run = await runOf(workflowId, uuid);
  expect(run.status, JSON.stringify(run)).toBe("completed");
  return run.steps.filter((step) => step.kind === "action" && step.status === "succeeded").map((s) => s.nodeId);
}

/**
 * The run waits at `nodeId` (its WaitRoom holds the wait: D1 says so first); then that
 * wait's hours pass (the WaitRoom's clock says so) and its alarm fires.
 */
async function timeOut(assetId: string, nodeId: string): Promise<void> {
  const room = waitRoomFor(env, null, assetId);
  const open = () =>
    runInDurableObject(
      room,
      (_instance, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM waits WHERE resolution IS NULL AND node_id = ?", nodeId)
          .one().n > 0,
    );
  await until(open, `the wait at ${nodeId}`);
  await runInDurableObject(room, (_instance, state) => {
    state.storage.sql.exec("UPDATE waits SET deadline = ? WHERE node_id = ?", Date.now() - 1, nodeId);
  });
  await runDurableObjectAlarm(room);
}

const SCENARIOS: Record<string, Scenario[]> = {
  "api-token-hygiene": [
    // A tmp- token nobody revokes: announced, revoked after the 24 h wait, announced again.
    async () => {
      const { marker, assetId } = hostileAsset();
      const workflow = await install("api-token-hygiene", assetId);
      const trigger = hostileEvent({ eventType: "system.api_token.create", assetId, namePrefix: "tmp-" });
      await deliver([trigger]);
      await timeOut(assetId, "waitForRevoke");
      return { marker, nodes: await ranNodes(workflow.id, trigger.uuid), posts: 2 };
    },
  ],
  "authenticator-change-alert": ["activate", "deactivate"].map((change) => async () => {
    const { marker, assetId } = hostileAsset();
    const workflow = await install("authenticator-change-alert", assetId);
    const trigger = hostileEvent({ eventType: `security.authenticator.lifecycle.${change}`, assetId });
    await deliver([trigger]);
    return { marker, nodes: await ranNodes(workflow.id, trigger.uuid), posts: 1 };
  }),
  "import-watchdog": [
    ...["system.import.roadblock", "system.import.complete"].map((outcome) => async () => {
      const { marker, assetId } = hostileAsset();
      const workflow = await install("import-watchdog", assetId);
      const trigger = hostileEvent({ eventType: "system.import.start", assetId });
      await deliver([trigger]);
      await runOf(workflow.id, trigger.uuid, ["waiting"]);
      // The complete event's result is hostile too, so it is not SUCCESS: the failed alert.
      await deliver([hostileEvent({ eventType: outcome, assetId })]);
      return { marker, nodes: await ranNodes(workflow.id, trigger.uuid), posts: 1 };
    }),
    // Neither outcome arrives in 2 hours: stuck.
    async () => {
      const { marker, assetId } = hostileAsset();
      const workflow = await install("import-watchdog", assetId);
      const trigger = hostileEvent({ eventType: "system.import.start", assetId });
      await deliver([trigger]);
      await timeOut(assetId, "waitForOutcome");
      return { marker, nodes: await ranNodes(workflow.id, trigger.uuid), posts: 1 };
    },
  ],
  "sms-toll-fraud": [
    // Five denied SMS from one (hostile) client IP: the IP is the count's key, in the alert.
    async () => {
      const { marker } = hostileAsset();
      const assetId = newAssetId("mbl");
      const workflow = await install("sms-toll-fraud", assetId);
      const burst = [5, 4, 3, 2, 1].map((secondsAgo) => {
        const event = hostileEvent({ eventType: "system.sms.send_phone_verification_message", assetId });
        const client = { ...(event.client as Record<string, unknown>), ipAddress: `${marker}${HOSTILE}` };
        return { ...event, client, published: new Date(Date.now() - secondsAgo * 1000).toISOString() };
      });
      await deliver(burst);
      return { marker, nodes: await ranNodes(workflow.id, (burst[4] as BuiltEvent).uuid), posts: 1 };
    },
  ],
  "access-request-sla": [
    // Never resolved: the reminder after 8 hours, then the escalation 16 hours later.
    async () => {
      const { marker, assetId } = hostileAsset();
      const workflow = await install("access-request-sla", assetId);
      const trigger = hostileEvent({ eventType: "access.request.create", assetId });
      await deliver([trigger]);
      await timeOut(assetId, "waitForResolution");
      await timeOut(assetId, "waitAfterReminder");
      return { marker, nodes: await ranNodes(workflow.id, trigger.uuid), posts: 2 };
    },
  ],
};

const slackExamples = EXAMPLES.filter((example) => slackNodes(example.definition).length > 0);

describe("Okta text reaches Slack escaped, in every example workflow that posts to Slack", () => {
  it("covers every example with a Slack node", () => {
    expect(slackExamples.map((e) => e.slug).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it.each(slackExamples.map((example) => [example.slug, example] as const))("%s", async (slug, example) => {
    const reached = new Set<string>();
    for (const scenario of SCENARIOS[slug] ?? []) {
      const { marker, nodes, posts } = await scenario();
      for (const node of nodes) reached.add(node);
      const texts = postedAbout(marker);
      expect(texts).toHaveLength(posts);
      expectOnlyText(texts);
    }
    expect([...reached].filter((node) => slackNodes(example.definition).includes(node)).sort()).toEqual(
      slackNodes(example.definition).sort(),
    );
  });
});
