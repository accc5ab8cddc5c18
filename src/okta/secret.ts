/**
 * Constant-time secret comparison. Both sides are hashed first so that the
 * comparison takes the same time whatever the lengths, and the secret's length
 * does not leak through timing either.
 */

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * The expected secrets' digests, computed once per value: they are the Worker's own
 * config (at most a few values), so a delivery hashes only what it was sent. The
 * digests are kept, not their promises: a promise is not shared across requests.
 */
const expectedDigests = new Map<string, ArrayBuffer>();
const MAX_EXPECTED_DIGESTS = 32;

async function expectedDigest(secret: string): Promise<ArrayBuffer> {
  const known = expectedDigests.get(secret);
  if (known) return known;
  const computed = await digest(secret);
  if (expectedDigests.size >= MAX_EXPECTED_DIGESTS) expectedDigests.clear();
  expectedDigests.set(secret, computed);
  return computed;
}

/** True when `given` equals `expected`, compared in constant time. An empty expected secret never matches. */
export async function secretMatches(given: string | null | undefined, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  // A missing header is hashed as "" so it costs the same as a wrong one.
  const [a, b] = await Promise.all([digest(given ?? ""), expectedDigest(expected)]);
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
