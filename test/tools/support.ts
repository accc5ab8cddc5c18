/** Helpers for the Okta tools' tests: read stored events through the admin API, run a command capturing its output. */
import { ADMIN_TOKEN } from "../browser/local-service";

/** Every stored event's uuid, following the API's cursor. */
export async function storedUuids(serviceUrl: string): Promise<string[]> {
  const uuids: string[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL("/api/events", serviceUrl);
    url.searchParams.set("limit", "200");
    if (cursor) url.searchParams.set("cursor", cursor);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const body = (await res.json()) as { events: { uuid: string }[]; nextCursor: string | null };
    uuids.push(...body.events.map((event) => event.uuid));
    cursor = body.nextCursor;
  } while (cursor);
  return uuids;
}

/** Runs a command function, returning its exit code and what it printed. */
export async function capture(
  run: (out: (line: string) => void) => Promise<number>,
): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await run((line) => lines.push(line));
  return { code, output: lines.join("\n") };
}
