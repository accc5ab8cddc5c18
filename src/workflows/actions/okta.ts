/**
 * Builds the request of an `okta` action: a call to the Okta Management API of the
 * org in OKTA_ORG_URL, authenticated with an API token (`Authorization: SSWS <token>`).
 */
import type { TemplateScope } from "../template";
import {
  httpUrl,
  inField,
  type Prepared,
  permanentFailure,
  renderField,
  renderJsonField,
  type SecretReader,
} from "./context";
import type { OktaAction } from "./spec";
import { renderUrlRest } from "./url-template";

type Target = { method: string; path: string; body?: string } | { error: string };

/** The rendered id, URL-encoded so it stays one path segment; null when it renders empty. */
function renderId(field: string, template: string, scope: TemplateScope): string | null {
  const id = renderField(field, template, scope).trim();
  return id ? encodeURIComponent(id) : null;
}

// An empty id would turn "revoke this token" into a call on the whole collection.
const emptyId = (field: string): Target => ({ error: `${field}: renders to an empty string` });

function target(action: OktaAction, scope: TemplateScope): Target {
  switch (action.operation) {
    case "revokeApiToken": {
      const id = renderId("tokenId", action.tokenId, scope);
      return id ? { method: "DELETE", path: `/api/v1/api-tokens/${id}` } : emptyId("tokenId");
    }
    case "deactivateAuthenticator": {
      const id = renderId("authenticatorId", action.authenticatorId, scope);
      return id
        ? { method: "POST", path: `/api/v1/authenticators/${id}/lifecycle/deactivate` }
        : emptyId("authenticatorId");
    }
    case "request": {
      // Values are percent-encoded for their position, as in an http action's URL.
      const rendered = inField("path", () => renderUrlRest(action.path, scope));
      if ("error" in rendered) return { error: `path: ${rendered.error}` };
      const path = rendered.rest;
      const body = action.body === undefined ? undefined : JSON.stringify(renderJsonField("body", action.body, scope));
      return { method: action.method, path, body };
    }
  }
}

/**
 * Resolves the org URL, the token and the endpoint. A rendered `request` path must
 * stay on the org and under /api/ (no `..` escape, no other host).
 * Throws TemplateError (naming the field) on template syntax errors.
 */
export function prepareOkta(
  action: OktaAction,
  scope: TemplateScope,
  env: object,
  secrets: SecretReader,
  idempotencyKey: string,
): Prepared {
  const orgValue: unknown = Reflect.get(env, "OKTA_ORG_URL");
  if (typeof orgValue !== "string" || !orgValue) {
    return permanentFailure("OKTA_ORG_URL is not set; set it to the org's URL, e.g. https://example.okta.com");
  }
  const org = httpUrl(orgValue, true);
  if (!org) return permanentFailure("OKTA_ORG_URL is not an https URL");
  const endpoint = target(action, scope);
  if ("error" in endpoint) return permanentFailure(endpoint.error);
  const url = new URL(endpoint.path, org.origin);
  if (url.origin !== org.origin || !url.pathname.startsWith("/api/")) {
    return permanentFailure(`path: ${JSON.stringify(endpoint.path.slice(0, 200))} leaves the org's /api/`);
  }
  const token = secrets.read(action.apiToken.secret, "okta", url);
  if (!token.ok) return permanentFailure(`apiToken.secret: ${token.error}`);

  const headers = new Headers({
    Authorization: `SSWS ${token.value}`,
    Accept: "application/json",
    "Content-Type": "application/json",
    "Idempotency-Key": idempotencyKey,
    "User-Agent": "okta-event-workflows",
  });
  return {
    ok: true,
    request: {
      method: endpoint.method,
      url: url.href,
      headers,
      body: endpoint.body,
      label: `Okta ${endpoint.method} ${url.pathname}`,
      showUrl: true,
      secrets: secrets.values,
    },
  };
}
