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
