/** Opaque pagination cursors: base64url JSON, validated on the way back in. */
import type { z } from "zod";
import { AppError } from "../errors";

export function encodeCursor(position: unknown): string {
  return btoa(JSON.stringify(position)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    const json = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
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
