/**
 * Suppression: "alert once per authenticator per 24 h". A workflow's `suppress` names a
 * key, a template over the trigger's Event Fields, and a period. The first matching event
 * for a key starts a run and opens a window; a match with the same key inside the window
 * starts no run and is recorded against the run that fired (db/suppressions.ts decides
 * it in the transaction that starts runs). Pure.
 */
import { z } from "@hono/zod-openapi";
import type { EventFields } from "../okta/event-fields";
import { renderTemplate, TemplateString, templatePathError, templateReferences } from "./template";
import type { CountedEvents } from "./threshold";

export const MIN_SUPPRESS_SECONDS = 60;
export const MAX_SUPPRESS_SECONDS = 30 * 24 * 3600;

/** A key longer than this is stored as its SHA-256, so a huge Event Field cannot grow the table. */
export const MAX_STORED_KEY = 512;

const NO_NODES: ReadonlySet<string> = new Set();

/**
 * The key reads only the trigger's Event Fields, and for a threshold trigger the key it
 * counted by (`{{ count.key }}`: e.g. the client IP, which is no Event Field): it is
 * rendered before the run exists, so `event` (the same event then), `nodes` and `run`
 * would be empty or misleading.
 */
const SuppressKey = TemplateString.min(1)
  .max(200)
  .superRefine((value, ctx) => {
    for (const path of templateReferences(value)) {
      const error = /^trigger\.[^.[]+$/.test(path)
        ? templatePathError(path, NO_NODES)
        : path === "count.key"
          ? null
          : `{{ ${path} }}: a suppression key reads only the trigger's Event Fields (e.g. {{ trigger.id }}) or {{ count.key }}`;
      if (error) ctx.addIssue({ code: "custom", message: error });
    }
  })
  .openapi({
    description: "Template over the trigger's Event Fields, e.g. {{ trigger.id }}",
    example: "{{ trigger.id }}",
  });

export const Suppression = z
  .strictObject({
    key: SuppressKey,
    forSeconds: z.number().int().min(MIN_SUPPRESS_SECONDS).max(MAX_SUPPRESS_SECONDS).openapi({
      description: "How long after a run fires further matches with its key are suppressed (60 s to 30 days)",
    }),
  })
  .openapi("Suppression", { description: "Start at most one run per key per period; later matches are recorded" });
export type Suppression = z.infer<typeof Suppression>;

/** Where a run's suppression window lives: the workflow's slot for this (source, key). */
export interface SuppressionSlot {
  /**
   * `[source, key]` as JSON, the form WaitRoom names take (durable/wait-rooms.ts): a key is
   * only meaningful within one Okta org, and no source or key can be read as another.
   */
  scope: string;
  forSeconds: number;
}

/**
 * The slot a matching event falls into, or null when the workflow does not suppress or
 * the key renders empty (a trigger without the field): such an event is never
 * suppressed, because an empty key would lump unrelated events together.
 */
export async function suppressionSlot(
  suppress: Suppression | undefined,
  trigger: EventFields,
  workflowId: string,
  count?: CountedEvents | null,
): Promise<SuppressionSlot | null> {
  if (!suppress) return null;
  const key = renderTemplate(suppress.key, {
    trigger,
    event: trigger,
    nodes: {},
    run: { id: "", workflowId },
    ...(count ? { count } : {}),
  }).trim();
  if (key === "") return null;
  return { scope: JSON.stringify([trigger.source ?? null, await storedKey(key)]), forSeconds: suppress.forSeconds };
}

async function storedKey(key: string): Promise<string> {
  if (key.length <= MAX_STORED_KEY) return key;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return `sha256:${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The (source, key) a stored scope names, for the API and dashboard; null for one not written by suppressionSlot. */
export function readScope(scope: string): { source: string | null; key: string } | null {
  const parsed = z.tuple([z.string().nullable(), z.string()]).safeParse(safeJson(scope));
  return parsed.success ? { source: parsed.data[0], key: parsed.data[1] } : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return null;
  }
}
