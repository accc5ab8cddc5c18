/** Builds the request of a `slack` action: a JSON message POSTed to the incoming-webhook URL held in a secret. */
import type { TemplateScope } from "../template";
import { httpUrl, type Prepared, permanentFailure, renderField, type SecretReader } from "./context";
import type { SlackAction } from "./spec";

/**
 * Slack's incoming webhooks take no Idempotency-Key, so a repeat cannot be suppressed:
 * an attempt after the first (the consumer died after the post, or Slack answered 5xx
 * after posting) says so under the message, with the run's step key, so a reader
 * seeing two of the same alert knows it is one alert.
 */
export function repeatNote(repeat: { attempt: number; key: string }): string {
  return `\n_(attempt ${repeat.attempt} of step ${escapeSlackText(repeat.key)}: an earlier attempt may already have posted this)_`;
}

/**
 * Escapes a value for Slack mrkdwn text, as Slack documents: `&`, `<` and `>` are its
 * control characters (links, mentions, `<!channel>`), so a value inserted into a
 * message becomes text and only the template's own markup stays markup.
 */
export function escapeSlackText(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The path of a Slack webhook URL is the credential itself; shorter paths are not worth scrubbing from text. */
const MIN_REDACTED_PATH = 16;

/**
 * Renders `text`, every inserted value escaped for mrkdwn, and targets the webhook URL
 * from the secret, once the outbound policy allows that secret to go to that URL's
 * origin. The URL (and its path, in case an error message shows it in another form) is
 * scrubbed from every report.
 * Throws TemplateError (naming the field) on template syntax errors.
 */
export function prepareSlack(
  action: SlackAction,
  scope: TemplateScope,
  secrets: SecretReader,
  repeat: { attempt: number; key: string } = { attempt: 1, key: "" },
): Prepared {
  const name = action.webhook.secret;
  const webhook = secrets.read(name, "slack", null);
  if (!webhook.ok) return permanentFailure(`webhook.secret: ${webhook.error}`);
  const url = httpUrl(webhook.value);
  if (!url) return permanentFailure(`webhook.secret: secret ${name} does not hold an http(s) URL`);
  secrets.alsoRedact(url.href);
  const path = `${url.pathname}${url.search}`;
  if (path.length >= MIN_REDACTED_PATH) secrets.alsoRedact(path);
  const allowed = secrets.read(name, "slack", url);
  if (!allowed.ok) return permanentFailure(`webhook.secret: ${allowed.error}`);

  const text =
    renderField("text", action.text, scope, escapeSlackText) + (repeat.attempt > 1 ? repeatNote(repeat) : "");
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
