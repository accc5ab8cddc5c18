/**
 * Configuration held as JSON in one var (OKTA_SOURCES, WORKFLOW_SECRETS): a JSON string
 * (a var or secret) or an object (a wrangler.toml table); unset or empty means `{}`.
 * Validated with zod; a bad value is reported by name and path, never by its contents.
 */
import type { z } from "zod";

export type JsonVar<T> = { ok: true; value: T } | { ok: false; error: string };

export function readJsonVar<T>(env: object, name: string, schema: z.ZodType<T>): JsonVar<T> {
  const raw: unknown = Reflect.get(env, name);
  let declared: unknown = raw ?? {};
  if (typeof raw === "string") {
    try {
      declared = raw.trim() === "" ? {} : JSON.parse(raw);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      return { ok: false, error: `${name} is not valid JSON` };
    }
  }
  const parsed = schema.safeParse(declared);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `.${issue.path.join(".")}` : "";
  // A bad record key is reported as "Invalid key in record"; its own message says more.
  const message = issue?.code === "invalid_key" ? issue.issues[0]?.message : issue?.message;
  return { ok: false, error: `${name}${where}: ${message ?? "invalid"}` };
}
