/**
 * Builders for realistic Okta Event Hook deliveries, shaped like the captures in
 * shared/okta-event-hooks.md (nulls, "zone": "null", string "version", extra keys).
 * Used by the `npm run okta` command and by the tests. No Node or Workers APIs here.
 */

export interface OktaObject {
  id: string | null;
  type: string | null;
  alternateId?: string | null;
  displayName?: string | null;
  detailEntry?: null;
}

/** The asset (primary target) each System Category event type is about, by default. */
const DEFAULT_TARGETS: Record<string, (assetId: string) => OktaObject[]> = {
  "system.sms.send_phone_verification_message": (id) => [
    { id: "00uUSER0000000000001", type: "User", alternateId: "jane@example.com", displayName: "Jane Doe" },
    { id, type: "MobilePhone", alternateId: "+14155550100", displayName: null },
  ],
  "system.voice.send_phone_verification_call": (id) => [
    { id: "00uUSER0000000000001", type: "User", alternateId: "jane@example.com", displayName: "Jane Doe" },
    { id, type: "MobilePhone", alternateId: "+14155550100", displayName: null },
  ],
  "system.api_token.create": (id) => [{ id, type: "Token", alternateId: "unknown", displayName: "ci-deploy-token" }],
  "system.api_token.revoke": (id) => [{ id, type: "Token", alternateId: "unknown", displayName: "ci-deploy-token" }],
  // The endpoint pattern is the target; Okta's cards show its ID and type, and the
  // pattern appears as its alternateId too. The bucket never has either.
  "system.org.rate_limit.warning": (id) => [
    { id, type: "URL Pattern", alternateId: id, displayName: null },
    { id: "bucket-0001", type: "Bucket Uuid", alternateId: null, displayName: null },
  ],
  "system.org.rate_limit.violation": (id) => [
    { id, type: "URL Pattern", alternateId: id, displayName: null },
    { id: "bucket-0001", type: "Bucket Uuid", alternateId: null, displayName: null },
  ],
  // As in Okta's own sample delivery: an AppInstance's alternateId and displayName are both the app's label.
  "system.import.start": (id) => [
    { id, type: "AppInstance", alternateId: "example.local", displayName: "example.local" },
  ],
  "system.import.complete": (id) => [
    { id, type: "AppInstance", alternateId: "example.local", displayName: "example.local" },
  ],
  "system.import.roadblock": (id) => [
    { id, type: "AppInstance", alternateId: "example.local", displayName: "example.local" },
  ],
  "security.authenticator.lifecycle.activate": (id) => [
    { id, type: "Authenticator", alternateId: "okta_verify", displayName: "Okta Verify" },
  ],
  "security.authenticator.lifecycle.deactivate": (id) => [
    { id, type: "Authenticator", alternateId: "okta_verify", displayName: "Okta Verify" },
  ],
  "access.request.create": (id) => [
    { id, type: "AccessRequest", alternateId: "Salesforce access", displayName: "Access to Salesforce" },
  ],
  "access.request.resolve": (id) => [
    { id, type: "AccessRequest", alternateId: "Salesforce access", displayName: "Access to Salesforce" },
  ],
};

/**
 * Okta's human-readable `displayMessage` per type. The api_token and rate-limit texts
 * are verbatim from public captures; the others follow Okta's wording for the same
 * actions (shared/okta-event-hooks.md §2.6, §4.2).
 */
const DISPLAY_MESSAGES: Record<string, string> = {
  "system.sms.send_phone_verification_message": "Send phone verification SMS message",
  "system.voice.send_phone_verification_call": "Send phone verification call",
  "system.api_token.create": "Create API token",
  "system.api_token.revoke": "Revoke API token",
  "system.org.rate_limit.warning": "Rate limit warning",
  "system.org.rate_limit.violation": "Rate limit violation",
  "system.import.start": "Import started",
  "system.import.complete": "Import completed",
  "system.import.roadblock": "Import roadblock triggered due to exceeded threshold",
  "security.authenticator.lifecycle.activate": "Activate authenticator",
  "security.authenticator.lifecycle.deactivate": "Deactivate authenticator",
  "access.request.create": "Access request created",
  "access.request.resolve": "Access request resolved",
};

/**
 * The display name `npm run okta` gives an event's asset: `--name` when given; else,
 * for a token sent with `--asset`, one made from its ID, so two tokens never share a
 * name; else undefined (the type's default).
 */
export function senderDisplayName(eventType: string, assetId?: string, name?: string): string | undefined {
  if (name !== undefined) return name;
  if (assetId !== undefined && eventType.startsWith("system.api_token.")) return `api-token-${assetId}`;
  return undefined;
}

/**
 * Rate-limit targets exactly as Panther's public capture has them: no alternateId or
 * displayName keys at all (Okta's own doc sample has them null). For tests of how such
 * sparse targets are normalised; the default targets above carry the pattern as alternateId.
 */
export function capturedRateLimitTargets(pattern: string): OktaObject[] {
  return [
    { id: pattern, type: "URL Pattern" },
    { id: "abc12345", type: "Bucket Uuid" },
  ];
}

/** A plausible asset ID for an event type, so a command line can omit it. */
export function defaultAssetId(eventType: string): string {
  if (eventType.startsWith("system.api_token.")) return "00T2lyn19abcDEF0h7";
  if (eventType.startsWith("system.import.")) return "0oaAPP000000000000";
  if (eventType.startsWith("system.org.rate_limit.")) return "/api/v1/users";
  if (eventType.startsWith("system.sms.") || eventType.startsWith("system.voice.")) return "mbl3p075rwLbODqXZ0g7";
  if (eventType.startsWith("security.authenticator.")) return "aut1abcdEFGH0h7";
  if (eventType.startsWith("access.request.")) return "acr1abcdEFGH0h7";
  return "00uUSER0000000000001";
}

export interface OktaEventOptions {
  eventType: string;
  /** ID of the asset (primary target); defaults per event type. */
  assetId?: string;
  /** The asset's (primary target's) display name instead of the type's default. */
  displayName?: string;
  /** Replaces the default target array entirely (null is real Okta input too). */
  target?: OktaObject[] | null;
  actor?: OktaObject | null;
  /** `client.ipAddress` (default 203.0.113.10, a documentation address). */
  ipAddress?: string;
  uuid?: string;
  published?: string | Date;
  result?: string;
  reason?: string | null;
  displayMessage?: string;
}

/** An admin actor named by id, as `npm run okta -- --actor <id>` sends it. */
export function actorNamed(id: string): OktaObject {
  const alternateId = id.includes("@") ? id : `${id}@example.com`;
  return { id, type: "User", alternateId, displayName: id, detailEntry: null };
}

/** One System Log event (`data.events[]`) as Okta sends it. */
export function oktaEvent(options: OktaEventOptions): Record<string, unknown> {
  const assetId = options.assetId ?? defaultAssetId(options.eventType);
  const defaults = DEFAULT_TARGETS[options.eventType]?.(assetId) ?? [{ id: assetId, type: "User", alternateId: null }];
  const named =
    options.displayName === undefined
      ? defaults
      : defaults.map((t) => (t.id === assetId ? { ...t, displayName: options.displayName } : t));
  const target = options.target !== undefined ? options.target : named;
  const published = options.published ?? new Date();
  return {
    uuid: options.uuid ?? crypto.randomUUID(),
    published: typeof published === "string" ? published : published.toISOString(),
    eventType: options.eventType,
    version: "0",
    displayMessage: options.displayMessage ?? DISPLAY_MESSAGES[options.eventType] ?? "Event",
    severity: "INFO",
    client: {
      userAgent: { rawUserAgent: "Mozilla/5.0 (X11; Linux x86_64)", os: "Linux", browser: "CHROME" },
      zone: "null",
      device: "Computer",
      id: null,
      ipAddress: options.ipAddress ?? "203.0.113.10",
      geographicalContext: null,
    },
    device: null,
    actor:
      options.actor !== undefined
        ? options.actor
        : {
            id: "00u4729hjsVRU197Y5d7",
            type: "User",
            alternateId: "admin@example.com",
            displayName: "Example Admin",
            detailEntry: null,
          },
    outcome: { result: options.result ?? "SUCCESS", reason: options.reason ?? null },
    target: target?.map((t) => ({ detailEntry: null, ...t })) ?? null,
    transaction: { type: "WEB", id: "ZyoV3a1b2c3d4e5f6g7h8iAAAB", detail: {} },
    debugContext: { debugData: { requestUri: "/api/v1/example" } },
    legacyEventType: null,
    authenticationContext: { authenticationStep: 0, externalSessionId: "102eA1R2Mabc" },
    securityContext: {},
    insertionTimestamp: null,
  };
}

export interface DeliveryOptions {
  eventId?: string;
  eventTime?: string;
  hookId?: string;
  orgUrl?: string;
}

/** The envelope Okta POSTs to the hook, wrapping one or more events. */
export function oktaDelivery(
  events: Record<string, unknown>[],
  options: DeliveryOptions = {},
): Record<string, unknown> {
  const orgUrl = options.orgUrl ?? "https://example.okta.com";
  return {
    eventType: "com.okta.event_hook",
    eventTypeVersion: "1.0",
    cloudEventsVersion: "0.1",
    source: `${orgUrl}/api/v1/eventHooks/${options.hookId ?? "who1abcdEFGHijklm0h7"}`,
    eventId: options.eventId ?? crypto.randomUUID(),
    data: { events },
    eventTime: options.eventTime ?? new Date().toISOString(),
    contentType: "application/json",
  };
}

/** Headers Okta sends with a delivery, with the shared secret in the configured header. */
export function oktaHeaders(secret: string, headerName = "Authorization"): Record<string, string> {
  return {
    accept: "application/json",
    "content-type": "application/json",
    "user-agent": "Okta Hook Service v1.0.0 - who1abcdEFGHijklm0h7",
    [headerName]: secret,
  };
}
