/**
 * Cloudflare Access: the admin API and the dashboard accept a verified
 * `Cf-Access-Jwt-Assertion`, and the bearer token still works. Keys are generated here;
 * the team's JWKS is served by intercepting fetch, as Access would serve it.
 */
import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { expectLogged } from "./expected-logs";
import { ADMIN_TOKEN, send, sendWithEnv } from "./support";

const ISSUER = "https://test-team.cloudflareaccess.com";
const AUDIENCE = "test-access-aud";
const CERTS = `${ISSUER}/cdn-cgi/access/certs`;

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface TeamKey {
  kid: string;
  pair: KeyPair;
  jwk: JWK;
}

async function teamKey(kid: string): Promise<TeamKey> {
  const pair = await generateKeyPair("RS256", { extractable: true });
  return { kid, pair, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: "RS256", use: "sig" } };
}

let current: TeamKey;
let stranger: TeamKey;
/** The keys the team's JWKS lists now; a rotation replaces them. */
let published: JWK[] = [];
let certFetches = 0;

beforeAll(async () => {
  current = await teamKey("key-2026-11");
  stranger = await teamKey("key-not-published");
  published = [current.jwk];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === CERTS) {
      certFetches += 1;
      return Response.json({ keys: published, public_cert: {}, public_certs: [] });
    }
    return realFetch(input, init);
  });
});

afterEach(() => {
  vi.useRealTimers();
});

interface Claims {
  iss?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
  email?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An Access JWT as Cloudflare issues it, with any claim overridden. */
function accessJwt(claims: Claims = {}, key: TeamKey = current): Promise<string> {
  return new SignJWT({ email: claims.email ?? "ana@example.com", type: "app", identity_nonce: "n" })
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject("7335d417-61da-459d-899c-0a01c76a2f94")
    .setIssuedAt(nowSeconds() - 60)
    .setNotBefore(claims.nbf ?? nowSeconds() - 60)
    .setExpirationTime(claims.exp ?? nowSeconds() + 3600)
    .sign(key.pair.privateKey);
}

function withJwt(path: string, jwt: string, extra: Record<string, string> = {}): Request {
  return new Request(`http://worker.test${path}`, {
    headers: { "Cf-Access-Jwt-Assertion": jwt, ...extra },
    redirect: "manual",
  });
}

const apiStatus = (jwt: string) => send(withJwt("/api/status", jwt));

describe("a valid Access token", () => {
  it("opens the admin API without a bearer token", async () => {
    expect((await apiStatus(await accessJwt())).status).toBe(200);
  });

  it("opens the dashboard without signing in", async () => {
    const res = await send(withJwt("/", await accessJwt()));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<title>Overview · Okta event workflows</title>");
  });

  it("counts for nothing when Access is not configured", async () => {
    const res = await sendWithEnv(withJwt("/api/status", await accessJwt()), {
      ACCESS_TEAM_DOMAIN: "",
      ACCESS_AUD: "",
    });
    expect(res.status).toBe(401);
  });
});

describe("a token that must be refused", () => {
  async function refused(jwt: string, code: string) {
    const logged = expectLogged("warn", "access token refused");
    const res = await apiStatus(jwt);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: "unauthorized", message: "a valid Cloudflare Access token or bearer token is required" },
    });
    expect(logged).toEqual([["access token refused", expect.objectContaining({ code })]]);
    expect(JSON.stringify(logged)).not.toContain(jwt);
    // The dashboard refuses it too: a signed-out visitor goes to the sign-in page.
    expectLogged("warn", "access token refused");
    expect((await send(withJwt("/", jwt))).status).toBe(303);
  }

  it("expired", async () => {
    await refused(await accessJwt({ exp: nowSeconds() - 10 }), "ERR_JWT_EXPIRED");
  });

  it("not yet valid", async () => {
    await refused(await accessJwt({ nbf: nowSeconds() + 600 }), "ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("for another Access application (audience)", async () => {
    await refused(await accessJwt({ aud: "someone-elses-aud" }), "ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("from another team (issuer)", async () => {
    await refused(
      await accessJwt({ iss: "https://other-team.cloudflareaccess.com" }),
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
  });

  it("signed by a key the team does not publish (unknown kid)", async () => {
    await refused(await accessJwt({}, stranger), "ERR_JWKS_NO_MATCHING_KEY");
  });

  it("unsigned (alg: none)", async () => {
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const header = encode({ alg: "none", kid: current.kid, typ: "JWT" });
    const payload = encode({ iss: ISSUER, aud: AUDIENCE, email: "eve@example.com", exp: nowSeconds() + 3600 });
    await refused(`${header}.${payload}.`, "ERR_JOSE_ALG_NOT_ALLOWED");
  });

  it("with a tampered payload (signature no longer matches)", async () => {
    const [header, , signature] = (await accessJwt()).split(".");
    const forged = base64url.encode(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, email: "eve@example.com", exp: nowSeconds() + 3600 }),
    );
    await refused(`${header}.${forged}.${signature}`, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
  });

  it("garbage", async () => {
    await refused("not-a-jwt", "ERR_JWS_INVALID");
  });
});

describe("the bearer token", () => {
  it("still opens the API for automation, whatever Access header comes with it", async () => {
    const res = await send(withJwt("/api/status", "not-a-jwt", { Authorization: `Bearer ${ADMIN_TOKEN}` }));
    expect(res.status).toBe(200);
  });

  it("is refused when wrong, with no Access token either", async () => {
    const res = await send(new Request("http://worker.test/api/status", { headers: { Authorization: "Bearer nope" } }));
    expect(res.status).toBe(401);
  });
});

describe("the team's keys", () => {
  it("are fetched once and cached, and fetched again when Access rotates them", async () => {
    await apiStatus(await accessJwt());
    const before = certFetches;
    for (let i = 0; i < 3; i++) expect((await apiStatus(await accessJwt())).status).toBe(200);
    expect(certFetches).toBe(before);

    // Access rotates: a new key is published and tokens carry its kid. jose looks again
    // (at most every 30 s), so move the clock past that.
    const next = await teamKey("key-2027-01");
    published = [next.jwk, current.jwk];
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    expect((await apiStatus(await accessJwt({}, next))).status).toBe(200);
    expect(certFetches).toBe(before + 1);
  });
});

it("without Access configured, a refusal asks only for the bearer token", async () => {
  const res = await sendWithEnv(new Request("http://worker.test/api/status"), {
    ACCESS_TEAM_DOMAIN: "",
    ACCESS_AUD: "",
  });
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({ error: { code: "unauthorized", message: "a valid bearer token is required" } });
});
