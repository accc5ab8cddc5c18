/**
 * What every action kind shares: the context an action runs in, the outcome it
 * reports, the request it prepares, and the secret reader that remembers every value
 * it hands out so that those values can be scrubbed from anything we report.
 */
import { type JsonValue, renderJson, renderTemplateEncoded, TemplateError, type TemplateScope } from "../template";
import { type ActionKind, type OutboundPolicy, outboundPolicy, secretUseError } from "./outbound-policy";

export { redact } from "./redact";

export type ActionContext = {
  scope: TemplateScope;
  /** The Worker env: secrets are read from it by name when the action runs, as is OKTA_ORG_URL. */
  env: object;
  /** `runId:nodeId`, sent as Idempotency-Key so a receiver can drop a repeat after a crash. */
  idempotencyKey: string;
  /**
   * Which attempt of this step this is (1 the first). A Slack webhook has no
   * Idempotency-Key, so a repeat after a crash or a failed try is marked as one.
   */
  attempt?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
};

/** What a successful call leaves for later nodes (`nodes.<id>.output`). Never holds a secret. */
export type ActionOutput = {
  /** The final HTTP status. */
  status: number;
  /** The start of the response body, at most 2048 characters. */
  body: string;
  /** True when `body` is cut short. */
  truncated: boolean;
  /** The parsed body, when the response is JSON of at most 8 KB. */
  json?: JsonValue;
  /** How many requests were sent (1 + retries used). */
  attempts: number;
  /** Absent for Slack, whose URL is itself the secret. */
  method?: string;
  url?: string;
};

export type ActionOutcome =
  | { status: "succeeded"; output: ActionOutput }
  | { status: "failed"; error: string; retryable: boolean; retryAfterSeconds?: number };

/** A request ready to send, or the reason it could not be built. */
export type PreparedRequest = {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
  /** How errors name the request, e.g. "POST https://example.com/hook" or "Slack webhook". */
  label: string;
  /** Whether output may show the method and URL (not for Slack). */
  showUrl: boolean;
  /** Values to scrub from everything reported: the secrets this request carries. */
  secrets: readonly string[];
};
export type Prepared = { ok: true; request: PreparedRequest } | { ok: false; outcome: ActionOutcome };

/** A permanent failure: retrying the same definition against the same data cannot succeed. */
export function permanentFailure(error: string): { ok: false; outcome: ActionOutcome } {
  return { ok: false, outcome: { status: "failed", error, retryable: false } };
}

/**
 * Reads secrets from the env by name, only as the outbound policy allows (declared,
 * not the service's own, to a granted origin), and remembers every value it hands
 * out so that it can be scrubbed from everything reported.
 */
export class SecretReader {
  readonly values: string[] = [];
  readonly policy: OutboundPolicy;

  constructor(private readonly env: object) {
    this.policy = outboundPolicy(env);
  }

  /**
   * The secret's value for `action` sending it to `url` (null: not known before the
   * value is read, as for a Slack webhook, whose URL is the secret). Refuses with the
   * reason when the policy forbids it or the secret is unset.
   */
  read(name: string, action: ActionKind, url: URL | null): { ok: true; value: string } | { ok: false; error: string } {
    const refused = secretUseError(this.policy, name, action, url);
    if (refused) return { ok: false, error: refused };
    const value: unknown = Reflect.get(this.env, name);
    if (typeof value !== "string" || value === "") return { ok: false, error: missingSecret(name) };
    this.values.push(value);
    return { ok: true, value };
  }

  /** Also scrub `value` (e.g. a normalised form of a secret URL). */
  alsoRedact(value: string): void {
    if (value) this.values.push(value);
  }
}

/**
 * The message for a secret that is not configured; names the secret, never a value.
 * Gives both fixes, since the Worker cannot tell a deployment from `npm run dev`.
 */
export function missingSecret(name: string): string {
  return `secret ${name} is not set; add it with \`wrangler secret put ${name}\` (locally: add ${name} to .dev.vars and restart npm run dev)`;
}

/** Leaves a value as it is: for a field whose output is plain text, not markup. */
const asIs = (value: string) => value;

/**
 * Renders one field's template, passing each inserted value through `escapeValue` (the
 * escaping of the field's output format, e.g. Slack mrkdwn), never the template's own
 * text. A syntax error is rethrown naming the field (`url: unclosed "{{" ...`).
 */
export function renderField(
  field: string,
  template: string,
  scope: TemplateScope,
  escapeValue: (value: string) => string = asIs,
): string {
  return inField(field, () => renderTemplateEncoded(template, scope, escapeValue));
}

/** renderJson for one field, naming the field on a syntax error. */
export function renderJsonField(field: string, value: JsonValue, scope: TemplateScope): JsonValue {
  return inField(field, () => renderJson(value, scope));
}

/** Runs `render`, naming `field` in a template syntax error it throws. */
export function inField<T>(field: string, render: () => T): T {
  try {
    return render();
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`${field}: ${err.message}`);
    throw err;
  }
}

/** Parses an absolute http(s) URL, or returns null. */
export function httpUrl(value: string, httpsOnly = false): URL | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  const allowed = httpsOnly ? ["https:"] : ["https:", "http:"];
  return allowed.includes(url.protocol) ? url : null;
}

/** Sets a header, or explains why the value cannot be one (line breaks, non-Latin-1 text). Never shows the value. */
export function setHeader(headers: Headers, name: string, value: string): string | null {
  if (/[\r\n\0]/.test(value)) return `headers.${name}: the value contains a line break`;
  try {
    headers.set(name, value);
    return null;
  } catch (err) {
    if (err instanceof TypeError) return `headers.${name}: not a valid header value`;
    throw err;
  }
}
