/**
 * The example workflows post their pages to the local receiver (`npm run catcher`), whose
 * port can move. They say so with the placeholder `${CATCHER_URL}` at the start of a URL,
 * and whoever loads an example (the dashboard's "create from an example",
 * `npm run workflows:load`) puts the configured receiver's origin in its place.
 */

// biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is literal text in the example files, not a template.
export const CATCHER_PLACEHOLDER = "${CATCHER_URL}";
/** Where `npm run catcher` listens when nothing moves it. */
export const DEFAULT_CATCHER_URL = "http://127.0.0.1:8788";

/** A copy of `definition` with every string that starts with the placeholder pointed at `catcherUrl` (its origin, no trailing slash). */
export function withCatcherUrl(definition: unknown, catcherUrl: string | undefined): unknown {
  const base = (catcherUrl || DEFAULT_CATCHER_URL).replace(/\/+$/, "");
  const visit = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.startsWith(CATCHER_PLACEHOLDER) ? base + value.slice(CATCHER_PLACEHOLDER.length) : value;
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item)]));
    }
    return value;
  };
  return visit(definition);
}
