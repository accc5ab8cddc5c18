/** Reading a page's filters: blank form fields count as absent, and a bad value is a 400 that names it. */
import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "../errors";
import { describeIssue } from "../validation";

/** A filter field: trimmed, and absent when left blank in the form. */
export const Filter = z.preprocess(
  (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
  z.string().trim().max(500).optional(),
);

export function readQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError(400, "bad_request", describeIssue(parsed.error));
  return parsed.data;
}

/** Reads an urlencoded form body against a schema. */
export async function readForm<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const body = await c.req.parseBody();
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AppError(400, "bad_request", describeIssue(parsed.error));
  return parsed.data;
}
