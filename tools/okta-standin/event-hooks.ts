/**
 * The stand-in's event hooks: the `EventHook` object as Okta's Management API shapes it,
 * the request body it accepts, and Okta's verification call. The auth header's value is
 * write-only, as in Okta: kept to send, never returned.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

const Header = z.object({ key: z.string().min(1), value: z.string() });

export const EventHookInput = z.object({
  name: z.string().min(1).max(255),
  description: z.string().nullish(),
  events: z.object({
    type: z.literal("EVENT_TYPE"),
    // Okta allows at most 300 event types per hook.
    items: z
      .array(z.string().regex(/^[a-z_]+(\.[a-z_]+)+$/, "not an event type"))
      .min(1)
      .max(300),
    filter: z.unknown().optional(),
  }),
  channel: z.object({
    type: z.literal("HTTP"),
    version: z.string().min(1),
    config: z.object({
      uri: z.url().refine(allowedUri, "must be https (the stand-in also allows http to a loopback address)"),
      headers: z.array(Header).nullish(),
      method: z.literal("POST").optional(),
      // Okta: "Currently only supports HEADER". The value may be omitted on replace to keep the old one.
      authScheme: z
        .object({ type: z.literal("HEADER"), key: z.string().min(1), value: z.string().optional() })
        .nullish(),
    }),
  }),
});
export type EventHookInput = z.infer<typeof EventHookInput>;

function allowedUri(uri: string): boolean {
  const url = new URL(uri);
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

export interface StoredHook {
  id: string;
  status: "ACTIVE" | "INACTIVE";
  verificationStatus: "VERIFIED" | "UNVERIFIED";
  name: string;
  description: string | null;
  created: string;
  createdBy: string;
  lastUpdated: string;
  events: { type: "EVENT_TYPE"; items: string[]; filter: unknown };
  uri: string;
  headers: { key: string; value: string }[];
  auth: { key: string; value: string } | null;
}

export const newHookId = () => `who${randomBytes(9).toString("base64url").replace(/[-_]/g, "x")}`;

/** The hook as the API returns it: the auth value left out, lifecycle links for its state. */
export function hookView(hook: StoredHook, orgUrl: string) {
  const self = `${orgUrl}/api/v1/eventHooks/${hook.id}`;
  const lifecycle = (name: string) => ({ href: `${self}/lifecycle/${name}`, hints: { allow: ["POST"] } });
  return {
    id: hook.id,
    status: hook.status,
    verificationStatus: hook.verificationStatus,
    name: hook.name,
    description: hook.description,
    created: hook.created,
    createdBy: hook.createdBy,
    lastUpdated: hook.lastUpdated,
    events: hook.events,
    channel: {
      type: "HTTP",
      version: "1.0.0",
      config: {
        uri: hook.uri,
        headers: hook.headers,
        method: "POST",
        authScheme: hook.auth ? { type: "HEADER", key: hook.auth.key } : null,
      },
    },
    _links: {
      self: { href: self, hints: { allow: ["GET", "PUT", "DELETE"] } },
      verify: lifecycle("verify"),
      ...(hook.status === "ACTIVE" ? { deactivate: lifecycle("deactivate") } : { activate: lifecycle("activate") }),
    },
  };
}

/**
 * Okta's verification: a GET to the hook's URI with `X-Okta-Verification-Challenge`,
 * the auth header and the custom headers; the reply must be 200 with
 * `{"verification": <challenge>}` within 3 s. One retry after a timeout or an error.
 * Returns null on success, else why it failed.
 */
export async function verifyHook(hook: StoredHook, timeoutMs = 3000): Promise<string | null> {
  let reason = "";
  for (let attempt = 0; attempt < 2; attempt++) {
    const challenge = randomBytes(30).toString("base64url");
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": "Okta-Integrations",
      "X-Okta-Verification-Challenge": challenge,
      "X-Okta-Request-Id": randomBytes(20).toString("base64url"),
    };
    for (const header of hook.headers) headers[header.key] = header.value;
    if (hook.auth) headers[hook.auth.key] = hook.auth.value;
    try {
      const res = await fetch(hook.uri, { headers, signal: AbortSignal.timeout(timeoutMs) });
      const body: unknown = await res.json().catch(() => null);
      const echoed = typeof body === "object" && body !== null && "verification" in body ? body.verification : null;
      if (res.status === 200 && echoed === challenge) return null;
      reason = `answered ${res.status}${echoed === null ? " without a verification" : " with the wrong verification"}`;
    } catch (err) {
      reason = err instanceof Error && err.name === "TimeoutError" ? "timed out after 3 s" : String(err);
    }
  }
  return reason;
}
