/**
 * The one place that decides what a workflow may reach. Workflow authors are not the
 * operator: a workflow reads only the secrets the operator declared in
 * WORKFLOW_SECRETS, sends each only to the origins declared for it, over https
 * (loopback http too when LOCAL_DEV is "1"), and never reads the service's own
 * secrets. The same checks run when a definition is saved and again when an action
 * runs (the declaration may have changed since). Pure: it takes the env as data.
 */
import { z } from "zod";
import { readJsonVar } from "../../json-var";
import { hookSecretNames } from "../../okta/sources";

/** The service's own credentials: never readable by a workflow, whatever the declaration says. */
export const SERVICE_SECRETS: ReadonlySet<string> = new Set([
  "ADMIN_TOKEN",
  "OKTA_HOOK_SECRET",
  "OKTA_HOOK_SECRET_PREVIOUS",
]);

/** Marks the Okta API token in WORKFLOW_SECRETS: only okta actions use it, only towards OKTA_ORG_URL. */
const OKTA = "okta";

const Origin = z.string().refine((value) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value.replace(/\/$/, "");
}, "an origin such as https://hooks.slack.com (scheme, host and optional port; no path)");

/** `{"NAME": ["https://origin", ...] | "okta"}`: a JSON string (a var or secret) or an object (a wrangler.toml table). */
export const SecretDeclaration = z.record(
  z.string().regex(/^[A-Z][A-Z0-9_]*$/, "a secret name"),
  z.union([z.literal(OKTA), z.array(Origin).min(1)]),
);

export type SecretGrant = { kind: "okta" } | { kind: "origins"; origins: ReadonlySet<string> };

export type OutboundPolicy = {
  secrets: ReadonlyMap<string, SecretGrant>;
  /** LOCAL_DEV="1": loopback http is allowed for every action and every secret, nothing else is relaxed. */
  localDev: boolean;
  /** OKTA_ORG_URL's origin, when it is an https URL. */
  oktaOrigin: string | null;
  /** The declaration could not be read: every secret is refused, with this reason. */
  declarationError: string | null;
  /** The hook secrets of the named Okta orgs (OKTA_SOURCES): service secrets too. */
  hookSecrets: ReadonlySet<string>;
};

function envString(env: object, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" ? value : undefined;
}

/** Reads the policy from the Worker env. A malformed declaration grants nothing (fail closed) and says why. */
export function outboundPolicy(env: object): OutboundPolicy {
  const localDev = envString(env, "LOCAL_DEV") === "1";
  const org = envString(env, "OKTA_ORG_URL");
  const orgUrl = org && URL.canParse(org) ? new URL(org) : null;
  const oktaOrigin = orgUrl?.protocol === "https:" ? orgUrl.origin : null;
  const named = hookSecretNames(env);
  // Which secrets open a hook is unknown when OKTA_SOURCES is malformed, so none is handed out.
  const hookSecrets = named ?? new Set<string>();
  const refuseAll = (declarationError: string): OutboundPolicy => ({
    secrets: new Map(),
    localDev,
    oktaOrigin,
    declarationError,
    hookSecrets,
  });
  if (!named) return refuseAll("OKTA_SOURCES is invalid, so the hook secrets it names cannot be told apart");
  const read = readJsonVar(env, "WORKFLOW_SECRETS", SecretDeclaration);
  if (!read.ok) return refuseAll(read.error);
  const secrets = new Map<string, SecretGrant>();
  for (const [name, grant] of Object.entries(read.value)) {
    secrets.set(
      name,
      grant === OKTA
        ? { kind: "okta" }
        : { kind: "origins", origins: new Set(grant.map((origin) => new URL(origin).origin)) },
    );
  }
  return { secrets, localDev, oktaOrigin, declarationError: null, hookSecrets };
}

/** 127.0.0.0/8, ::1 and localhost: a request that never leaves the machine. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Whether plain http may be used for this URL: only loopback, only in local development. */
function httpAllowed(url: URL, policy: OutboundPolicy): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && policy.localDev && isLoopback(url));
}

export type ActionKind = "http" | "slack" | "okta";

/**
 * May `action` send secret `name` to `url`? Returns the reason it may not, or null.
 * `url` is null when it is not known yet (a Slack webhook at save: the URL is the secret).
 */
export function secretUseError(
  policy: OutboundPolicy,
  name: string,
  action: ActionKind,
  url: URL | null,
): string | null {
  if (SERVICE_SECRETS.has(name) || policy.hookSecrets.has(name)) {
    return `${name} is the service's own secret; workflows can never read it`;
  }
  if (policy.declarationError) return `${name} cannot be used: ${policy.declarationError}`;
  const grant = policy.secrets.get(name);
  if (!grant) {
    return `${name} is not declared in WORKFLOW_SECRETS; the operator lists the secrets workflows may use and the origins each may be sent to`;
  }
  if (grant.kind === "okta" && action !== "okta") return `${name} is an Okta API token: only okta actions may use it`;
  if (grant.kind !== "okta" && action === "okta") {
    return `${name} is not declared as an Okta API token ("${OKTA}") in WORKFLOW_SECRETS`;
  }
  if (!url) return null;
  if (grant.kind === "okta") {
    return url.origin === policy.oktaOrigin ? null : `${name} is sent only to the Okta org in OKTA_ORG_URL`;
  }
  if (!httpAllowed(url, policy)) {
    return `${name} is sent only over https${policy.localDev ? " (or http to a loopback address)" : ""}, not to ${url.origin}`;
  }
  // Local development may point any secret at a local receiver (npm run catcher); nothing leaves the machine.
  if (policy.localDev && isLoopback(url)) return null;
  if (!grant.origins.has(url.origin)) {
    return `${name} may be sent only to ${[...grant.origins].join(", ")}, not to ${url.origin}`;
  }
  return null;
}

/** A request without secrets: http(s) only; plain http to a non-loopback host is fine (no credential rides on it). */
export function plainUrlError(url: URL): string | null {
  return url.protocol === "https:" || url.protocol === "http:" ? null : `${url.protocol} URLs are not allowed`;
}

/** The header a request from a workflow carries; the Worker refuses any request that has it, so a workflow cannot call its own service in a loop. */
export const LOOP_HEADER = "X-Okta-Event-Workflows-Run";

/** Refuses a URL on one of the Worker's own origins (known at save from the API request's URL). */
export function selfTargetError(url: URL, selfOrigins: readonly string[]): string | null {
  return selfOrigins.includes(url.origin)
    ? `${url.origin} is this service itself: a workflow may not call its own hook or API`
    : null;
}
