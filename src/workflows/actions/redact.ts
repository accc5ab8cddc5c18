/**
 * Scrubbing secrets from what an action reports. A receiver may echo a credential
 * in another form (a Basic header in base64, a query string percent-encoded, JSON
 * with \u escapes), so every common encoding of each secret is removed, not only
 * exact copies. Pure.
 */
import type { JsonValue } from "../template";

const REDACTED = "[redacted]";
/** Encoded forms of very short values would match ordinary text; exact copies are still removed. */
const MIN_ENCODED_LENGTH = 6;

const bytesOf = (text: string) => new TextEncoder().encode(text);

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The base64 text that encodes `bytes` wherever they sit in a longer value: for
 * each of the three alignments, the characters determined by these bytes alone.
 */
function base64Cores(bytes: Uint8Array): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = base64(padded).replace(/=+$/, "");
    // Drop the leading characters that mix in the padding bytes and the trailing one that mixes in what follows.
    const head = offset === 0 ? 0 : offset + 1;
    const tail = (offset + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 1;
    const core = encoded.slice(head, tail);
    if (core.length >= 4) cores.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return cores;
}

const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");

/** Every form of `secret` to remove: exact, base64/base64url (any alignment), hex, percent-encoded, JSON-escaped. */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_ENCODED_LENGTH) return [secret];
  const bytes = bytesOf(secret);
  const hexText = hex(bytes);
  const everyByte = [...bytes].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  const everyChar = [...secret].map((ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`).join("");
  return [
    secret,
    ...base64Cores(bytes),
    hexText,
    hexText.toUpperCase(),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replaceAll("%20", "+"),
    everyByte,
    everyByte.toUpperCase(),
    JSON.stringify(secret).slice(1, -1),
    JSON.stringify(secret).slice(1, -1).replaceAll("/", "\\/"),
    everyChar,
    everyChar.toUpperCase().replaceAll("\\U", "\\u"),
  ];
}

/** Replaces every form of each secret in `text` with "[redacted]"; longest first, so a form containing another goes whole. */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = new Set(secrets.filter(Boolean).flatMap(secretForms));
  const ordered = [...forms].filter(Boolean).sort((a, b) => b.length - a.length);
  return ordered.reduce((out, form) => (out.includes(form) ? out.split(form).join(REDACTED) : out), text);
}

/** redact() on every string of a JSON value, keys included: a parsed body can hold a secret its text escaped. */
export function redactJson(value: JsonValue, secrets: readonly string[]): JsonValue {
  if (typeof value === "string") return redact(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets));
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[redact(key, secrets)] = redactJson(item, secrets);
    return out;
  }
  return value;
}
