/**
 * Constant-time secret comparison. Both sides are hashed first so that the
 * comparison takes the same time whatever the lengths, and the secret's length
 * does not leak through timing either.
 */

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** True when `given` equals `expected`, compared in constant time. An empty expected secret never matches. */
export async function secretMatches(given: string | null | undefined, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  // A missing header is hashed as "" so it costs the same as a wrong one.
  const [a, b] = await Promise.all([digest(given ?? ""), digest(expected)]);
  const equal = crypto.subtle.timingSafeEqual(a, b);
  return equal && given != null;
}

/** True when `given` matches any of the accepted secrets (current, then the previous one during rotation). */
export async function anySecretMatches(
  given: string | null,
  accepted: ReadonlyArray<string | undefined>,
): Promise<boolean> {
  const results = await Promise.all(accepted.map((secret) => secretMatches(given, secret)));
  return results.some(Boolean);
}
