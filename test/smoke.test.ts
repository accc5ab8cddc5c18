import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("answers the challenge", async () => {
  const res = await exports.default.fetch("http://x/hooks/okta", {
    headers: { authorization: "test-hook-secret", "x-okta-verification-challenge": "abc" },
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ verification: "abc" });
});
