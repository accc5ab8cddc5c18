/**
 * Cloudflare Access: a request that came through Access carries the user's identity
 * as a signed JWT in `Cf-Access-Jwt-Assertion`. It counts only once verified against
 * the team's keys (its JWKS at `<team domain>/cdn-cgi/access/certs`), issuer and
 * audience, with jose. The key set is fetched once per isolate and kept (jose caches
 * it for ten minutes and fetches it again when a token names a key it does not have,
 * which is how a rotation reaches us), at most once per 30 s.
 */
import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { errorText, logError, logWarn } from "./log";

export const ACCESS_HEADER = "cf-access-jwt-assertion";

export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: the tokens' issuer and the home of the keys. */
  issuer: string;
  /** The Access application's AUD tag(s); a token must be for one of them. */
  audience: string[];
}

/**
 * The Access settings from the ACCESS_TEAM_DOMAIN and ACCESS_AUD vars, or null when
 * Access is not set up (either is empty). The team domain may be given with or
 * without `https://`; ACCESS_AUD may list several tags, comma-separated (pure).
 */
export function accessConfig(env: Pick<Env, "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD">): AccessConfig | null {
  const domain = (env.ACCESS_TEAM_DOMAIN ?? "").trim().replace(/\/+$/, "");
  const audience = (env.ACCESS_AUD ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  if (!domain || audience.length === 0) return null;
  return { issuer: domain.startsWith("https://") ? domain : `https://${domain}`, audience };
}

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(issuer: string) {
  let keys = keySets.get(issuer);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(`${issuer}/cdn-cgi/access/certs`), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    });
    keySets.set(issuer, keys);
  }
  return keys;
}

export interface AccessIdentity {
  /** The user's email, or a service token's client ID. */
  name: string;
}

/**
 * Verifies an Access JWT: signature by a key of the team's JWKS (RS256 only, so
 * `alg: none` and HMAC tricks fail), issuer, audience, `exp` and `nbf`. Returns the
 * identity, or null for any token that does not pass (logged with jose's reason code,
 * never the token).
 */
export async function verifyAccessJwt(
  token: string,
  config: AccessConfig,
  now: Date = new Date(),
): Promise<AccessIdentity | null> {
  try {
    const { payload } = await jwtVerify(token, keySetOf(config.issuer), {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ["RS256"],
      currentDate: now,
    });
    const name = [payload.email, payload.common_name, payload.sub].find((v) => typeof v === "string" && v !== "");
    return { name: typeof name === "string" ? name : "access" };
  } catch (err) {
    if (err instanceof errors.JOSEError) {
      logWarn("access token refused", { code: err.code, reason: err.message });
    } else {
      // The keys could not be fetched: refuse this token, the bearer token still works.
      logError("access keys unavailable", { error: errorText(err) });
    }
    return null;
  }
}

/** The verified identity of a request that came through Access, or null (no header, Access off, or a token that fails). */
export async function accessIdentity(
  header: string | undefined,
  env: Pick<Env, "ACCESS_TEAM_DOMAIN" | "ACCESS_AUD">,
): Promise<AccessIdentity | null> {
  const config = accessConfig(env);
  if (!config || !header) return null;
  return verifyAccessJwt(header, config);
}
