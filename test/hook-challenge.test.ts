/** GET /hooks/okta: Okta's one-time verification challenge, and which secrets it accepts. */
import { describe, expect, it } from "vitest";
import { HOOK_SECRET, hookRequest, send, sendWithEnv } from "./support";

const CHALLENGE = "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg";

function challengeRequest(headers: Record<string, string>): Request {
  return hookRequest({ method: "GET", headers });
}

describe("verification challenge", () => {
  it("echoes the challenge as {verification} JSON, like Okta's own example", async () => {
    const res = await send(
      challengeRequest({
        authorization: HOOK_SECRET,
        "x-okta-verification-challenge": CHALLENGE,
        "user-agent": "Okta-Integrations",
        accept: "application/json",
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.text()).toBe(JSON.stringify({ verification: CHALLENGE }));
  });

  it("echoes the value unchanged, whatever its characters, up to 1024 of them", async () => {
    const challenge = `${"a".repeat(1000)}-_.~+/=`.padEnd(1024, "Z");
    const res = await send(
      challengeRequest({ authorization: HOOK_SECRET, "X-Okta-Verification-Challenge": challenge }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ verification: challenge });
  });

  it.each([
    ["no secret", {}],
    ["a wrong secret", { authorization: "not-the-secret" }],
  ])("answers 401 with %s, without echoing the challenge", async (_, auth: Record<string, string>) => {
    const res = await send(challengeRequest({ ...auth, "x-okta-verification-challenge": CHALLENGE }));
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain(CHALLENGE);
    expect(JSON.parse(text)).toEqual({ error: { code: "unauthorized", message: "missing or invalid hook secret" } });
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["longer than 1024 characters", "x".repeat(1025)],
  ])("answers 400 when the challenge header is %s", async (_, challenge: string | undefined) => {
    const headers: Record<string, string> = { authorization: HOOK_SECRET };
    if (challenge !== undefined) headers["x-okta-verification-challenge"] = challenge;
    const res = await send(challengeRequest(headers));
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; message: string } }>();
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toContain("x-okta-verification-challenge");
    expect(body).not.toHaveProperty("verification");
  });
});

describe("configured auth header", () => {
  it("accepts the secret in X-API-Key when OKTA_AUTH_HEADER is X-API-Key", async () => {
    const res = await sendWithEnv(
      challengeRequest({ "x-api-key": HOOK_SECRET, "x-okta-verification-challenge": CHALLENGE }),
      { OKTA_AUTH_HEADER: "X-API-Key" },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ verification: CHALLENGE });
  });

  it("then rejects the secret sent in Authorization", async () => {
    const res = await sendWithEnv(
      challengeRequest({ authorization: HOOK_SECRET, "x-okta-verification-challenge": CHALLENGE }),
      { OKTA_AUTH_HEADER: "X-API-Key" },
    );
    expect(res.status).toBe(401);
  });

  it("ignores X-API-Key when the header is the default Authorization", async () => {
    const res = await send(challengeRequest({ "x-api-key": HOOK_SECRET, "x-okta-verification-challenge": CHALLENGE }));
    expect(res.status).toBe(401);
  });
});

describe("secret rotation", () => {
  const rotating = { OKTA_HOOK_SECRET: "new-secret-2", OKTA_HOOK_SECRET_PREVIOUS: "old-secret-1" };

  it.each([
    ["new", "new-secret-2", 200],
    ["previous", "old-secret-1", 200],
    ["retired older", "test-hook-secret", 401],
  ])("with a previous secret set, the %s secret answers %i", async (_, secret, status) => {
    const res = await sendWithEnv(
      challengeRequest({ authorization: secret, "x-okta-verification-challenge": CHALLENGE }),
      rotating,
    );
    expect(res.status).toBe(status);
  });

  it("an empty previous secret never matches an empty or missing header", async () => {
    const emptyHeader = await sendWithEnv(
      challengeRequest({ authorization: "", "x-okta-verification-challenge": CHALLENGE }),
      { OKTA_HOOK_SECRET_PREVIOUS: "" },
    );
    expect(emptyHeader.status).toBe(401);
    const noHeader = await sendWithEnv(challengeRequest({ "x-okta-verification-challenge": CHALLENGE }), {
      OKTA_HOOK_SECRET_PREVIOUS: "",
    });
    expect(noHeader.status).toBe(401);
  });
});
