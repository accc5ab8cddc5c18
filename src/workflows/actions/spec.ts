/**
 * What an action node may do, as stored in a workflow definition. Secrets are never
 * part of a definition: a field that needs one names a Worker secret, read from the
 * environment only when the action runs.
 */
import { z } from "@hono/zod-openapi";
import { isJsonValue, type JsonValue, TemplateString, templateSyntaxError } from "../template";
import { splitUrlTemplate } from "./url-template";

const SECRET_NAME = /^[A-Z][A-Z0-9_]*$/;
// Header names that carry credentials: an inline value would put the credential in the definition.
const CREDENTIAL_HEADER = /authorization|api[-_]?key|token|secret|cookie|password/i;
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const SecretName = z
  .string()
  .regex(SECRET_NAME, "a Worker secret name: upper case letters, digits and '_', starting with a letter");

/** A reference to a Worker secret (or env var) by name; its value is read at run time. */
export const SecretRef = z
  .strictObject({ secret: SecretName })
  .openapi("SecretRef", { example: { secret: "OKTA_API_TOKEN" } });
export type SecretRef = z.infer<typeof SecretRef>;

/** A header whose value comes from a secret, optionally after a fixed prefix such as "Bearer ". */
export const SecretHeader = z
  .strictObject({ secret: SecretName, prefix: z.string().max(64).optional() })
  .openapi("SecretHeader", { example: { secret: "PARTNER_TOKEN", prefix: "Bearer " } });
export type SecretHeader = z.infer<typeof SecretHeader>;

export const HttpMethod = z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).openapi("HttpMethod");
export type HttpMethod = z.infer<typeof HttpMethod>;

const TimeoutMs = z.number().int().min(1).max(30_000).default(10_000);
const Retries = z.number().int().min(0).max(5).default(2);
/** A templated JSON body: every string in it may hold placeholders. (z.json() would send the OpenAPI generator into endless recursion.) */
const Body = z
  .custom<JsonValue>(isJsonValue, "must be a JSON value")
  .superRefine((body, ctx) => {
    // Every string in a body is a template: check its syntax on save, as for every other field.
    const stack: Array<[Array<string | number>, unknown]> = [[[], body]];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      const [path, value] = item;
      if (typeof value === "string") {
        const error = templateSyntaxError(value);
        if (error) ctx.addIssue({ code: "custom", path, message: error });
      } else if (Array.isArray(value))
        value.forEach((child, index) => {
          stack.push([[...path, index], child]);
        });
      else if (value !== null && typeof value === "object") {
        for (const [key, child] of Object.entries(value)) stack.push([[...path, key], child]);
      }
    }
  })
  .openapi({
    type: ["object", "array", "string", "number", "boolean", "null"],
    description: "JSON body; strings may hold {{ path }} placeholders",
  });

const RequestHeaders = z
  .record(z.string().regex(HEADER_NAME, "not a valid header name"), z.union([TemplateString, SecretHeader]))
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === "string" && CREDENTIAL_HEADER.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: 'a credential must reference a Worker secret, e.g. {"secret": "MY_TOKEN"}',
        });
      }
    }
  });

/** The scheme, host and port are written literally; placeholders only in the path, query or fragment. */
const Url = TemplateString.max(2048)
  .superRefine((url, ctx) => {
    const split = splitUrlTemplate(url);
    if ("error" in split) ctx.addIssue({ code: "custom", message: split.error });
  })
  .openapi({ example: "https://hooks.example.com/okta/{{ trigger.id }}" });

function noBodyWithGet(action: { method: HttpMethod; body?: unknown }, ctx: z.RefinementCtx): void {
  if (action.method === "GET" && action.body !== undefined) {
    ctx.addIssue({ code: "custom", path: ["body"], message: "a GET request cannot have a body" });
  }
}

/** An outbound HTTP request. */
export const HttpAction = z
  .strictObject({
    type: z.literal("http"),
    method: HttpMethod,
    url: Url,
    headers: RequestHeaders.optional(),
    body: Body.optional(),
    timeoutMs: TimeoutMs,
    retries: Retries,
  })
  .superRefine(noBodyWithGet)
  .openapi("HttpAction");
export type HttpAction = z.infer<typeof HttpAction>;

/** A message to a Slack incoming webhook, whose URL lives in a Worker secret. */
export const SlackAction = z
  .strictObject({
    type: z.literal("slack"),
    webhook: z.strictObject(
      { secret: SecretName },
      {
        error: (issue) =>
          typeof issue.input === "string"
            ? 'the webhook URL is a credential: store it as a Worker secret and reference it, e.g. {"secret": "SLACK_WEBHOOK_URL"}'
            : undefined,
      },
    ),
    text: TemplateString.min(1).max(40_000),
    timeoutMs: TimeoutMs,
    retries: Retries,
  })
  .openapi("SlackAction");
export type SlackAction = z.infer<typeof SlackAction>;

const oktaCommon = {
  type: z.literal("okta"),
  /** An Okta API token (SSWS); defaults to the OKTA_API_TOKEN secret. */
  // Built afresh rather than SecretRef.default(): a default on the shared component would show on every use of it.
  apiToken: z.strictObject({ secret: SecretName }).default({ secret: "OKTA_API_TOKEN" }),
  timeoutMs: TimeoutMs,
  retries: Retries,
};

/** Okta Management API: revoke an API token (DELETE /api/v1/api-tokens/{id}). */
export const OktaRevokeApiToken = z
  .strictObject({ ...oktaCommon, operation: z.literal("revokeApiToken"), tokenId: TemplateString.min(1) })
  .openapi("OktaRevokeApiToken");

/** Okta Management API: deactivate an authenticator (POST /api/v1/authenticators/{id}/lifecycle/deactivate). */
export const OktaDeactivateAuthenticator = z
  .strictObject({
    ...oktaCommon,
    operation: z.literal("deactivateAuthenticator"),
    authenticatorId: TemplateString.min(1),
  })
  .openapi("OktaDeactivateAuthenticator");

/** Any Okta Management API call under /api/ on the org in OKTA_ORG_URL. */
export const OktaRequest = z
  .strictObject({
    ...oktaCommon,
    operation: z.literal("request"),
    method: HttpMethod,
    path: TemplateString.max(2048)
      .refine((path) => path.startsWith("/api/"), "must start with /api/")
      .openapi({ example: "/api/v1/users/{{ trigger.id }}/lifecycle/suspend" }),
    body: Body.optional(),
  })
  .superRefine(noBodyWithGet)
  .openapi("OktaRequest");

export const OktaAction = z
  .discriminatedUnion("operation", [OktaRevokeApiToken, OktaDeactivateAuthenticator, OktaRequest])
  .openapi("OktaAction");
export type OktaAction = z.infer<typeof OktaAction>;

/** An action node's action, by `type`. */
export const Action = z.discriminatedUnion("type", [HttpAction, SlackAction, OktaAction]).openapi("Action");
export type Action = z.infer<typeof Action>;

/** The names of the Worker secrets an action reads at run time. */
export function secretNames(action: Action): string[] {
  switch (action.type) {
    case "http":
      return Object.values(action.headers ?? {}).flatMap((value) => (typeof value === "string" ? [] : [value.secret]));
    case "slack":
      return [action.webhook.secret];
    case "okta":
      return [action.apiToken.secret];
  }
}

/** Every environment variable an action needs at run time: its secrets, plus OKTA_ORG_URL for Okta calls. */
export function envNames(action: Action): string[] {
  const names = secretNames(action);
  return action.type === "okta" ? [...names, "OKTA_ORG_URL"] : names;
}
