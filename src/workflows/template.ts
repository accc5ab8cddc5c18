/**
 * The template syntax of action fields: `{{ path.to.value }}` looked up in the run's
 * scope. Deliberately small and safe: a placeholder is only a path (dotted keys,
 * `[n]` or `.n` for array indexes), never an expression, so a definition can read
 * data but never run code. Pure.
 */
import { z } from "@hono/zod-openapi";
import type { EventFields } from "../okta/event-fields";
import { EVENT_FIELD_KEYS } from "../okta/event-types";
import { COUNT_KEYS, type CountedEvents } from "./threshold";

/** What a template can read while a run executes. */
export type TemplateScope = {
  /** The event that started the run. */
  trigger: EventFields;
  /** The current event: the trigger, or the event that resumed the run after a wait. */
  event: EventFields;
  /** Outputs of the nodes that already ran, by node id. */
  nodes: Record<string, { output: unknown }>;
  /**
   * The run: its ids, and how long after its trigger event was published it started
   * (workflows/lateness.ts). The engine and the dry run always set the lateness values.
   */
  run: { id: string; workflowId: string; late?: boolean; lateBy?: string; lateBySeconds?: number };
  /** For a run a threshold trigger started: the key, the count and the events counted (threshold.ts). */
  count?: CountedEvents;
};

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** True when `value` is plain JSON data (what JSON.parse can return): no undefined, functions or non-finite numbers. */
export function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  if (typeof value === "object") return Object.values(value).every(isJsonValue);
  return false;
}

/** Thrown by the render functions for a template that is not valid syntax (TemplateString rejects it on save). */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
}

type Segment = string | number;
type Part = { kind: "text"; text: string } | { kind: "ref"; path: string; segments: Segment[] };

// A key is letters, digits, '_' or '-' (node ids contain '-'); an all-digit key is an index.
const PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+|\[\d+\])*$/;
const SEGMENT = /[A-Za-z0-9_-]+|\[\d+\]/g;
const WHOLE_PLACEHOLDER = /^\{\{[^{}]*\}\}$/;

function parsePath(text: string): Segment[] | null {
  if (!PATH.test(text)) return null;
  return (text.match(SEGMENT) ?? []).map((segment) => {
    const digits = segment.startsWith("[") ? segment.slice(1, -1) : segment;
    return /^\d+$/.test(digits) ? Number(digits) : segment;
  });
}

function formatPath(segments: readonly Segment[]): string {
  return segments.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/** Splits a template into text and placeholders, or explains the first syntax error. */
function parse(template: string): { parts: Part[] } | { error: string } {
  const parts: Part[] = [];
  let cursor = 0;
  while (cursor < template.length) {
    const open = template.indexOf("{{", cursor);
    if (open === -1) break;
    const close = template.indexOf("}}", open + 2);
    if (close === -1) {
      return { error: `unclosed "{{" at position ${open}: every "{{" needs a matching "}}"` };
    }
    const inner = template.slice(open + 2, close).trim();
    const segments = parsePath(inner);
    if (!segments) {
      const shown = template.slice(open, close + 2);
      return {
        error: `invalid placeholder ${JSON.stringify(shown)}: expected a path such as {{ trigger.displayName }}`,
      };
    }
    if (open > cursor) parts.push({ kind: "text", text: template.slice(cursor, open) });
    parts.push({ kind: "ref", path: formatPath(segments), segments });
    cursor = close + 2;
  }
  if (cursor < template.length) parts.push({ kind: "text", text: template.slice(cursor) });
  return { parts };
}

function partsOf(template: string): Part[] {
  const parsed = parse(template);
  if ("error" in parsed) throw new TemplateError(parsed.error);
  return parsed.parts;
}

/** Own properties only, so a path can never reach `__proto__`, `constructor` or methods. */
function lookup(scope: TemplateScope, segments: readonly Segment[]): unknown {
  let value: unknown = scope;
  for (const segment of segments) {
    if (Array.isArray(value) && typeof segment === "number") {
      value = value[segment];
    } else if (typeof value === "object" && value !== null && Object.hasOwn(value, String(segment))) {
      value = Reflect.get(value, String(segment));
    } else {
      return undefined;
    }
  }
  return value;
}

/** Converts a looked-up value to JSON: what cannot be represented (undefined, functions, NaN) becomes null. */
function toJson(value: unknown): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = toJson(item);
    return out;
  }
  return null;
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(toJson(value));
  return String(value);
}

/**
 * Renders `template` against `scope`. Missing values and null render as "", objects
 * and arrays as JSON. Throws TemplateError on invalid syntax.
 */
export function renderTemplate(template: string, scope: TemplateScope): string {
  return partsOf(template)
    .map((part) => (part.kind === "text" ? part.text : toText(lookup(scope, part.segments))))
    .join("");
}

/**
 * Renders `template`, passing each placeholder's text through `encode` together with
 * the literal text written before it (so a URL renderer knows whether the value lands
 * in the path, the query or the fragment). This is where an output format escapes what
 * a value inserts (Slack mrkdwn, a URL): the template's own text is never passed to
 * `encode`, so it stays markup. Throws TemplateError on invalid syntax.
 */
export function renderTemplateEncoded(
  template: string,
  scope: TemplateScope,
  encode: (value: string, literalBefore: string) => string,
): string {
  let literal = "";
  let out = "";
  for (const part of partsOf(template)) {
    if (part.kind === "text") {
      literal += part.text;
      out += part.text;
    } else {
      out += encode(toText(lookup(scope, part.segments)), literal);
    }
  }
  return out;
}

/** The syntax error of `template`, or null; the same check TemplateString runs on save. */
export function templateSyntaxError(template: string): string | null {
  const parsed = parse(template);
  return "error" in parsed ? parsed.error : null;
}

/**
 * Renders every string inside a JSON value (object keys stay literal). A string that
 * is exactly one placeholder keeps the referenced value's JSON type (a missing value
 * becomes null). Throws TemplateError on invalid syntax.
 */
export function renderJson(value: JsonValue, scope: TemplateScope): JsonValue {
  if (typeof value === "string") {
    if (WHOLE_PLACEHOLDER.test(value)) {
      const [part] = partsOf(value);
      if (part?.kind === "ref") return toJson(lookup(scope, part.segments) ?? null);
    }
    return renderTemplate(value, scope);
  }
  if (Array.isArray(value)) return value.map((item) => renderJson(item, scope));
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderJson(item, scope);
    return out;
  }
  return value;
}

/** The paths a template references, normalised (`nodes.a.output.items[0]`). Invalid syntax yields no paths: TemplateString reports it. */
export function templateReferences(template: string): string[] {
  const parsed = parse(template);
  if ("error" in parsed) return [];
  return parsed.parts.flatMap((part) => (part.kind === "ref" ? [part.path] : []));
}

/** The distinct paths referenced by every string anywhere inside `value` (a JSON value or a whole action). */
export function jsonTemplateReferences(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (item: unknown): void => {
    if (typeof item === "string") for (const path of templateReferences(item)) found.add(path);
    else if (Array.isArray(item)) item.forEach(walk);
    else if (typeof item === "object" && item !== null) Object.values(item).forEach(walk);
  };
  walk(value);
  return [...found];
}

const eventFieldKeys: ReadonlySet<string> = new Set(EVENT_FIELD_KEYS);
const RUN_KEYS = ["id", "workflowId", "late", "lateBy", "lateBySeconds"];
const runKeys: ReadonlySet<string> = new Set(RUN_KEYS);
const countKeys: ReadonlySet<string> = new Set(COUNT_KEYS);

/** Why a referenced path cannot be read (unknown root, Event Field, node or run field), or null. */
export function templatePathError(path: string, nodeIds: ReadonlySet<string>): string | null {
  const segments = parsePath(path);
  if (!segments) return `{{ ${path} }}: not a valid path`;
  const [root, key, third] = segments;
  const where = `{{ ${path} }}`;
  switch (root) {
    case "trigger":
    case "event":
      if (key === undefined) return null;
      if (!eventFieldKeys.has(String(key))) {
        return `${where}: unknown Event Field '${key}'; one of ${EVENT_FIELD_KEYS.join(", ")}`;
      }
      return segments.length > 2 ? `${where}: Event Fields are plain values with no properties` : null;
    case "nodes":
      if (key === undefined || !nodeIds.has(String(key))) {
        return `${where}: unknown node '${key ?? ""}'`;
      }
      return third === "output" ? null : `${where}: a node exposes only its output, e.g. {{ nodes.${key}.output }}`;
    case "run":
      if (key === undefined) return null;
      if (!runKeys.has(String(key))) return `${where}: unknown run field '${key}'; one of ${RUN_KEYS.join(", ")}`;
      return segments.length > 2 ? `${where}: run fields are plain values with no properties` : null;
    case "count":
      if (key === undefined) return null;
      if (!countKeys.has(String(key))) return `${where}: unknown count field '${key}'; one of ${COUNT_KEYS.join(", ")}`;
      return key === "events" || segments.length === 2 ? null : `${where}: count.${key} is a plain value`;
    default:
      return `${where}: unknown root '${root}'; templates read trigger, event, nodes, run or count`;
  }
}

/**
 * Checks referenced paths: the root is trigger, event, nodes or run; trigger/event
 * keys are Event Fields; nodes.<id> names a known node and reads its output.
 * Returns the first error (naming the path) or null.
 */
export function checkTemplatePaths(paths: Iterable<string>, knownNodeIds: Iterable<string>): string | null {
  const nodeIds = new Set(knownNodeIds);
  for (const path of paths) {
    const error = templatePathError(path, nodeIds);
    if (error) return error;
  }
  return null;
}

/** A string with `{{ path }}` placeholders; rejected on save when the braces or a path are malformed. */
export const TemplateString = z
  .string()
  .superRefine((value, ctx) => {
    const parsed = parse(value);
    if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
  })
  // Unnamed in OpenAPI: fields derive from it with their own limits, and a named component would carry one field's limits to all.
  .openapi({
    description: "Text with {{ path }} placeholders read from trigger, event, nodes.<id>.output or run",
    example: "Token {{ trigger.displayName }} was created",
  });
export type TemplateString = z.infer<typeof TemplateString>;
