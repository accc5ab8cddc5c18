/** Builds the request of an `http` action from its definition, the run's scope and the env. Pure apart from reading secrets. */
import type { TemplateScope } from "../template";
import {
  httpUrl,
  missingSecret,
  type Prepared,
  permanentFailure,
  renderField,
  renderJsonField,
  type SecretReader,
  setHeader,
} from "./context";
import { isLoopbackAllowed } from "./loopback";
import type { HttpAction } from "./spec";

/**
 * Renders url, headers and body. The URL must be https, or plain http to a loopback
 * receiver in local development (see loopback.ts). Headers from secrets get their optional prefix; a
 * JSON body is sent as application/json unless the definition sets another
 * Content-Type and the body renders to a string, which is then sent as is.
 * Idempotency-Key is added unless the definition sets its own.
 * Throws TemplateError (naming the field) on template syntax errors.
 */
export function prepareHttp(
  action: HttpAction,
  scope: TemplateScope,
  env: object,
  secrets: SecretReader,
  idempotencyKey: string,
): Prepared {
  const rendered = renderField("url", action.url, scope);
  const url = httpUrl(rendered);
  if (!url) return permanentFailure(`url: ${JSON.stringify(rendered.slice(0, 200))} is not an absolute http(s) URL`);
  if (url.protocol !== "https:" && !isLoopbackAllowed(url, env)) {
    return permanentFailure(
      `url: ${JSON.stringify(rendered.slice(0, 200))} is not an https URL (plain http only reaches a local receiver, in local development)`,
    );
  }

  const headers = new Headers();
  for (const [name, value] of Object.entries(action.headers ?? {})) {
    let headerValue: string;
    if (typeof value === "string") {
      headerValue = renderField(`headers.${name}`, value, scope);
    } else {
      const secret = secrets.read(value.secret);
      if (secret === null) return permanentFailure(`headers.${name}: ${missingSecret(value.secret)}`);
      headerValue = `${value.prefix ?? ""}${secret}`;
    }
    const problem = setHeader(headers, name, headerValue);
    if (problem) return permanentFailure(problem);
  }
  if (!headers.has("idempotency-key")) headers.set("Idempotency-Key", idempotencyKey);

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
