/** Builds the request of a `slack` action: a JSON message POSTed to the incoming-webhook URL held in a secret. */
import type { TemplateScope } from "../template";
import { httpUrl, missingSecret, type Prepared, permanentFailure, renderField, type SecretReader } from "./context";
import { isLoopbackAllowed } from "./loopback";
import type { SlackAction } from "./spec";

/** The path of a Slack webhook URL is the credential itself; shorter paths are not worth scrubbing from text. */
const MIN_REDACTED_PATH = 16;

/**
 * Renders `text` and targets the webhook URL from the secret. The URL (and its path,
 * in case an error message shows it in another form) is scrubbed from every report.
 * Throws TemplateError (naming the field) on template syntax errors.
 */
export function prepareSlack(action: SlackAction, scope: TemplateScope, env: object, secrets: SecretReader): Prepared {
  const name = action.webhook.secret;
  const webhook = secrets.read(name);
  if (webhook === null) return permanentFailure(`webhook: ${missingSecret(name)}`);
  const url = httpUrl(webhook);
  if (!url || (url.protocol !== "https:" && !isLoopbackAllowed(url, env)))
    return permanentFailure(`webhook: secret ${name} does not hold an https URL`);
  secrets.alsoRedact(url.href);
  const path = `${url.pathname}${url.search}`;
  if (path.length >= MIN_REDACTED_PATH) secrets.alsoRedact(path);

  const text = renderField("text", action.text, scope);
  return {
    ok: true,
    request: {
      method: "POST",
      url: url.href,
      headers: new Headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ text }),
      label: `Slack webhook (${name})`,
      showUrl: false,
      secrets: secrets.values,
    },
  };
}
