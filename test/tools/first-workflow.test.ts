/** docs/first-workflow.md's definitions are what the guide says: valid, and the filter lets laptop-token through, not ci-build. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { matchesTrigger } from "../../src/workflows/trigger";
import { parseDefinition } from "../../src/workflows/validate";
import { eventFields } from "../event-fields";

const guide = readFileSync(new URL("../../docs/first-workflow.md", import.meta.url), "utf8");
const definitions = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1] ?? ""));

describe("docs/first-workflow.md", () => {
  it("has the blank and the finished definition, both valid", () => {
    expect(definitions).toHaveLength(2);
    for (const definition of definitions) expect(parseDefinition(definition)).toMatchObject({ ok: true });
  });

  it("the finished workflow alerts on laptop-token and not on ci-build", () => {
    const finished = parseDefinition(definitions[1]);
    if (!finished.ok) throw new Error(finished.error);
    const token = (displayName: string) => eventFields({ eventType: "system.api_token.create", displayName });
    expect(matchesTrigger(finished.definition.trigger, token("laptop-token"))).toBe(true);
    expect(matchesTrigger(finished.definition.trigger, token("ci-build"))).toBe(false);
  });
});
