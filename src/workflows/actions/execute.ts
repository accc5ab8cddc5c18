/**
 * Runs one action node: renders its templates, reads its secrets, sends the request
 * with retries, and reports an outcome the engine can store as is (no secret in it).
 */
import { TemplateError } from "../template";
import { type ActionContext, type ActionOutcome, type Prepared, redact, SecretReader } from "./context";
import { prepareHttp } from "./http";
import { prepareOkta } from "./okta";
import { sendWithRetries } from "./retry";
import { prepareSlack } from "./slack";
import type { Action } from "./spec";

export type { ActionContext, ActionOutcome, ActionOutput } from "./context";

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
// Looked up at call time, so a test's spy on globalThis.fetch is honoured.
const defaultFetch: typeof fetch = (input, init) => fetch(input, init);

/** Builds the request an action would send, without sending it (the dashboard's dry run uses it too). */
export function prepareAction(action: Action, ctx: ActionContext, secrets: SecretReader): Prepared {
  switch (action.type) {
    case "http":
      return prepareHttp(action, ctx.scope, secrets, ctx.idempotencyKey);
    case "slack":
      return prepareSlack(action, ctx.scope, secrets, { attempt: ctx.attempt ?? 1, key: ctx.idempotencyKey });
    case "okta":
      return prepareOkta(action, ctx.scope, ctx.env, secrets, ctx.idempotencyKey);
  }
}

/**
 * Executes `action` once from the engine's point of view (with its own short retries
 * inside). Never throws for a failed call: configuration problems, template errors
 * and 4xx answers are `failed` with `retryable: false`; network errors, timeouts,
 * 408/429/5xx that outlast the retries (or ask to wait over 5 s) are `failed` with
 * `retryable: true` and `retryAfterSeconds`. Repeating it after a crash sends the
 * same Idempotency-Key (http and okta).
 */
export async function executeAction(action: Action, ctx: ActionContext): Promise<ActionOutcome> {
  const secrets = new SecretReader(ctx.env);
  let prepared: Prepared;
  try {
    prepared = prepareAction(action, ctx, secrets);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    // Stored definitions are validated on save; this catches one saved before a syntax rule existed.
    return { status: "failed", error: redact(err.message, secrets.values), retryable: false };
  }
  if (!prepared.ok) return prepared.outcome;
  return sendWithRetries(prepared.request, {
    timeoutMs: action.timeoutMs,
    retries: action.retries,
    fetch: ctx.fetch ?? defaultFetch,
    sleep: ctx.sleep ?? defaultSleep,
  });
}
