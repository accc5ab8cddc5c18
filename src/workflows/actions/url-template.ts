/**
 * Templated URLs whose destination the template cannot change. The scheme, host and
 * port are literal text in the definition; placeholders may only sit in the path,
 * query or fragment, and each value is percent-encoded for its position, so an
 * event's displayName cannot add a path segment, a query parameter or a fragment.
 * Pure.
 */
import { renderTemplateEncoded, type TemplateScope } from "../template";

/** A literal http(s) origin without userinfo, then the path/query/fragment (which may hold placeholders). */
const LITERAL_ORIGIN = /^(https?:\/\/[^/?#{}@\s\\]+)([/?#].*)?$/is;

/** Splits a URL template into its literal origin and the rest, or explains why the origin is not literal. */
export function splitUrlTemplate(template: string): { origin: string; rest: string } | { error: string } {
  const match = LITERAL_ORIGIN.exec(template);
  const written = match?.[1];
  if (!written || !URL.canParse(written)) {
    return {
      error:
        "must start with a literal https:// or http:// origin (no placeholder in the scheme, host or port, no user:password@)",
    };
  }
  return { origin: new URL(written).origin, rest: match?.[2] ?? "" };
}

/** encodeURIComponent leaves these; in a path segment "." and ".." are handled below. */
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
const pathOf = (text: string) => text.split(/[?#]/, 1)[0] ?? "";
const dotSegments = (path: string) => path.split("/").filter((segment) => DOT_SEGMENT.test(segment)).length;

/**
 * Renders the path/query/fragment part of a URL template (the text after the origin)
 * with every value percent-encoded. Returns an error when a rendered path segment is
 * "." or "..", which a URL parser would resolve by climbing the path.
 */
export function renderUrlRest(rest: string, scope: TemplateScope): { rest: string } | { error: string } {
  const rendered = renderTemplateEncoded(rest, scope, encodeValue);
  const written = pathOf(rest).replace(/\{\{[^{}]*\}\}/g, "x");
  if (dotSegments(pathOf(rendered)) > dotSegments(written)) {
    return { error: `${JSON.stringify(rendered.slice(0, 200))} has a "." or ".." path segment` };
  }
  return { rest: rendered };
}

/**
 * Renders a URL template; the result's origin must be the written one (a defence
 * beyond the encoding). Errors name no field: the caller adds it.
 */
export function renderUrl(template: string, scope: TemplateScope): { url: URL } | { error: string } {
  const split = splitUrlTemplate(template);
  if ("error" in split) return split;
  const rendered = renderUrlRest(split.rest, scope);
  if ("error" in rendered) return rendered;
  const text = `${split.origin}${rendered.rest}`;
  if (!URL.canParse(text)) return { error: `${JSON.stringify(text.slice(0, 200))} is not a valid URL` };
  const url = new URL(text);
  if (url.origin !== split.origin) return { error: `renders to origin ${url.origin}, not the written ${split.origin}` };
  return { url };
}
