/** The admin API as the crash test reads it: the public surface only, every page of a list. */
import type { RunView } from "./verdict";

export class AdminApi {
  constructor(
    private readonly baseUrl: () => string,
    private readonly token: string,
  ) {}

  /** One call; throws on a non-2xx answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  runs(): Promise<RunView[]> {
    return this.listAll<RunView>("/api/runs", "runs");
  }

  events(): Promise<{ uuid: string }[]> {
    return this.listAll<{ uuid: string }>("/api/events", "events");
  }

  /** Every page of a list endpoint, 200 a page. */
  private async listAll<T>(path: string, key: string): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: "200", ...(cursor ? { cursor } : {}) });
      const page: Record<string, unknown> = await this.call("GET", `${path}?${query}`);
      all.push(...(page[key] as T[]));
      cursor = (page.nextCursor as string | null) ?? null;
    } while (cursor);
    return all;
  }
}
