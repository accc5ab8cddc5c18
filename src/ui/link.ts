/**
 * Dashboard paths built from ids. Ids come from outside (an Okta event's uuid is any
 * string up to 200 characters), so every value is percent-encoded: a `?`, `#` or `/`
 * in an id stays part of its path segment or query value instead of ending it. Pure.
 */

/**
 * The tagged template for every href, form action, redirect and in-process API path
 * that holds a value: link`/events/${uuid}` is "/events/" + encodeURIComponent(uuid).
 * The literal parts are written as is.
 */
export function link(literals: TemplateStringsArray, ...values: Array<string | number>): string {
  return literals.reduce((out, literal, i) => {
    const value = values[i - 1];
    return out + (value === undefined ? "" : encodeURIComponent(String(value))) + literal;
  });
}
