/** Builds the request of an `http` action from its definition, the run's scope and the env. Pure apart from reading secrets. */
import type { TemplateScope } from "../template";
import {
  inField,
  type Prepared,
  permanentFailure,
  renderField,
  renderJsonField,
  type SecretReader,
  setHeader,
} from "./context";
import { LOOP_HEADER } from "./outbound-policy";
import type { HttpAction } from "./spec";
import { renderUrl } from "./url-template";

/**
 * Renders url, headers and body. The URL keeps its written origin and its values are
 * percent-encoded; each secret header is checked against the outbound policy for
 * that URL before the secret is read. A JSON body is sent as application/json
 * unless the definition sets another Content-Type and the body renders to a string,
 * which is then sent as is. Idempotency-Key is added unless the definition sets its
 * own. Throws TemplateError (naming the field) on template syntax errors.
 */
export function prepareHttp(
  action: HttpAction,
  scope: TemplateScope,
  secrets: SecretReader,
  idempotencyKey: string,
): Prepared {
  const rendered = inField("url", () => renderUrl(action.url, scope));
  if ("error" in rendered) return permanentFailure(`url: ${rendered.error}`);
  const url = rendered.url;

  const headers = new Headers();
  for (const [name, value] of Object.entries(action.headers ?? {})) {
    let headerValue: string;
    if (typeof value === "string") {
      headerValue = renderField(`headers.${name}`, value, scope);
    } else {
      const secret = secrets.read(value.secret, "http", url);
      if (!secret.ok) return permanentFailure(`headers.${name}.secret: ${secret.error}`);
      headerValue = `${value.prefix ?? ""}${secret.value}`;
    }
    const problem = setHeader(headers, name, headerValue);
    if (problem) return permanentFailure(problem);
  }
  if (!headers.has("idempotency-key")) headers.set("Idempotency-Key", idempotencyKey);
  headers.set(LOOP_HEADER, idempotencyKey);

  let body: string | undefined;
  if (action.body !== undefined) {
    const value = renderJsonField("body", action.body, scope);
    const contentType = headers.get("content-type");
    if (typeof value === "string" && contentType && !contentType.toLowerCase().includes("json")) {
      body = value;
    } else {
      body = JSON.stringify(value);
      if (!contentType) headers.set("Content-Type", "application/json");
    }
  }

  return {
    ok: true,
    request: {
      method: action.method,
      url: url.href,
      headers,
      body,
      label: `${action.method} ${url.origin}${url.pathname}`,
      showUrl: true,
      secrets: secrets.values,
    },
  };
}
