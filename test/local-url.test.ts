/** The local tools post where `npm run dev` serves: 127.0.0.1 on PORT (tools/local-url.ts). */
import { describe, expect, it } from "vitest";
import { localBaseUrl } from "../tools/local-url";

describe("localBaseUrl", () => {
  it("follows PORT, like npm run dev", () => {
    expect(localBaseUrl("8790")).toBe("http://127.0.0.1:8790");
  });

  it("is 8787 when PORT is unset or empty", () => {
    expect(localBaseUrl(undefined)).toBe("http://127.0.0.1:8787");
    expect(localBaseUrl("")).toBe("http://127.0.0.1:8787");
  });

  it.each(["abc", "0", "70000", "87.5"])("refuses PORT=%s, naming it", (port) => {
    expect(() => localBaseUrl(port)).toThrow(`PORT must be a port number from 1 to 65535 (got "${port}")`);
  });
});
