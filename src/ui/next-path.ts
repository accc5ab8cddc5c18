/**
 * Where the sign-in page may send a browser afterwards. The `next` it is given is
 * resolved the way the browser will resolve the Location header (the WHATWG URL
 * parser, which drops tabs and newlines and reads `\` as `/`), so a value that only
 * looks like a path ("/\t/other-host/") cannot leave the site.
 */

/** `next` as a path on `origin` (path, query and fragment), or "/" when it would leave that origin (pure). */
export function safeNext(next: string | undefined, origin: string): string {
  if (!next) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch (err) {
    if (err instanceof TypeError) return "/";
    throw err;
  }
  return url.origin === new URL(origin).origin ? `${url.pathname}${url.search}${url.hash}` : "/";
}
