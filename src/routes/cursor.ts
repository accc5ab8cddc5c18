/**
 * Opaque pagination cursors: base64url of the position's UTF-8 JSON, validated on
 * the way back in. Bytes, not characters: btoa alone throws on any character outside
 * Latin-1, and stored ids (an event's uuid) are whatever Okta sent.
 */
import type { z } from "zod";
import { AppError } from "../errors";

export function encodeCursor(position: unknown): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(position))) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (ch) => ch.charCodeAt(0)),
    );
    return schema.parse(JSON.parse(json));
  } catch (err) {
    throw new AppError(
      400,
      "bad_request",
      `cursor: not a cursor this API issued (${err instanceof Error ? err.name : "invalid"})`,
    );
  }
}

/** Splits rows fetched with `limit + 1` into the page and the cursor of the next page (null on the last). */
export function pageOf<T>(rows: T[], limit: number, position: (row: T) => unknown) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
