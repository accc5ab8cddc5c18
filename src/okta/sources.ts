/**
 * Which secret opens which hook path. `/hooks/okta` is the single-org hook
 * (OKTA_HOOK_SECRET, OKTA_HOOK_SECRET_PREVIOUS, OKTA_AUTH_HEADER); `/hooks/okta/:source`
 * is a named Okta org declared in OKTA_SOURCES, whose secrets are Worker secrets read
 * by name, so the var never holds a secret value. Pure: it takes the env as data.
 */
import { z } from "zod";
import { readJsonVar } from "../json-var";

/** A source name as it appears in the hook path and in the `source` Event Field. */
export const SOURCE_NAME = /^[a-z0-9-]{1,32}$/;

/** The admin token opens the API; letting it double as a hook secret would hand it to Okta. */
const SecretName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, "the name of a Worker secret, such as OKTA_HOOK_SECRET_ACME")
  .refine((name) => name !== "ADMIN_TOKEN", "ADMIN_TOKEN cannot be a hook secret");

/** An HTTP header name (RFC 9110 token). */
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, "an HTTP header name");

export const OktaSource = z.strictObject({
  secret: SecretName,
  previousSecret: SecretName.optional(),
  authHeader: HeaderName.optional(),
});
export type OktaSource = z.infer<typeof OktaSource>;

export const OktaSources = z.record(z.string().regex(SOURCE_NAME, "a source name: 1-32 of a-z, 0-9 and -"), OktaSource);
export type OktaSources = z.infer<typeof OktaSources>;

/** OKTA_SOURCES as read: the named sources, or why none can be used. */
export type SourcesConfig =
  | { sources: ReadonlyMap<string, OktaSource>; error: null }
  | { sources: null; error: string };

/** Reads OKTA_SOURCES: a JSON string (a var) or an object (a wrangler.toml table); unset or empty declares none. */
export function readOktaSources(env: object): SourcesConfig {
  const read = readJsonVar(env, "OKTA_SOURCES", OktaSources);
  if (!read.ok) return { sources: null, error: read.error };
  return { sources: new Map(Object.entries(read.value)), error: null };
}

/** What a request to one hook path must carry. `source` is null on the single-org hook. */
export interface HookAuth {
  source: string | null;
  headerName: string;
  /** Current secret first, then the previous one during a rotation; unset ones never match. */
  secrets: Array<string | undefined>;
  /** The current secret's name when the Worker does not have it (nothing can open the path): worth a log line, never a response. */
  missingSecret: string | null;
}

export type HookAuthResult =
  | { kind: "ok"; auth: HookAuth }
  | { kind: "unknown" }
  | { kind: "misconfigured"; error: string };

function envString(env: object, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The credentials of a hook path: `source` null for `/hooks/okta`, else the `:source` segment. */
export function hookAuth(env: object, source: string | null): HookAuthResult {
  if (source === null) {
    return {
      kind: "ok",
      auth: {
        source: null,
        headerName: envString(env, "OKTA_AUTH_HEADER") ?? "Authorization",
        secrets: [envString(env, "OKTA_HOOK_SECRET"), envString(env, "OKTA_HOOK_SECRET_PREVIOUS")],
        missingSecret: null,
      },
    };
  }
  if (!SOURCE_NAME.test(source)) return { kind: "unknown" };
  const config = readOktaSources(env);
  if (config.error !== null) return { kind: "misconfigured", error: config.error };
  const declared = config.sources.get(source);
  if (!declared) return { kind: "unknown" };
  const names = [declared.secret, declared.previousSecret].filter((name) => name !== undefined);
  return {
    kind: "ok",
    auth: {
      source,
      headerName: declared.authHeader ?? "Authorization",
      secrets: names.map((name) => envString(env, name)),
      // An unset previous secret is the normal state outside a rotation.
      missingSecret: envString(env, declared.secret) === undefined ? declared.secret : null,
    },
  };
}

/**
 * The secret names OKTA_SOURCES declares, which no workflow may read. A malformed
 * OKTA_SOURCES gives null: the caller cannot tell which names are hook secrets.
 */
export function hookSecretNames(env: object): ReadonlySet<string> | null {
  const config = readOktaSources(env);
  if (config.error !== null) return null;
  return new Set([...config.sources.values()].flatMap((s) => [s.secret, s.previousSecret ?? []].flat()));
}
