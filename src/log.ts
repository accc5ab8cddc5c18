/**
 * Structured log lines: one JSON object a line, `{"msg", ...fields}`, so that
 * `wrangler tail --format json` and Workers Logs can filter on any field. Fields carry
 * IDs, counts and reasons; never a secret, a header value or a raw Okta payload.
 */

export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Record<string, LogValue>;

/** An ordinary event in the service's life (a delivery accepted, a retention pass). */
export function logInfo(msg: string, fields: LogFields = {}): void {
  console.log(JSON.stringify({ msg, ...fields }));
}

/** Something an on-call engineer should look at, though nothing was lost. */
export function logWarn(msg: string, fields: LogFields = {}): void {
  console.warn(JSON.stringify({ msg, ...fields }));
}

/** A failure: something did not happen that should have. */
export function logError(msg: string, fields: LogFields = {}): void {
  console.error(JSON.stringify({ msg, ...fields }));
}

/** An error as a log field: its message only (a stack can quote request data). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
