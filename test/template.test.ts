import { describe, expect, it } from "vitest";
import {
  checkTemplatePaths,
  jsonTemplateReferences,
  renderJson,
  renderTemplate,
  renderTemplateEncoded,
  TemplateError,
  type TemplateScope,
  TemplateString,
  templateReferences,
} from "../src/workflows/template";
import { eventFields } from "./event-fields";

function scope(overrides: Partial<TemplateScope> = {}): TemplateScope {
  const trigger = eventFields();
  return {
    trigger,
    event: trigger,
    nodes: {
      notify: { output: { status: 200, ok: true, items: [{ id: "first" }, { id: "second" }], empty: null } },
    },
    run: { id: "run-1", workflowId: "wf-1" },
    ...overrides,
  };
}

describe("renderTemplate", () => {
  it("reads dotted paths from every root", () => {
    const s = scope({ event: eventFields({ eventType: "system.api_token.revoke" }) });
    expect(renderTemplate("{{trigger.displayName}} / {{ event.eventType }} / {{ run.id }}", s)).toBe(
      "ci-token / system.api_token.revoke / run-1",
    );
  });

  it("indexes arrays with [n] and .n", () => {
    const s = scope();
    expect(renderTemplate("{{ nodes.notify.output.items[1].id }}", s)).toBe("second");
    expect(renderTemplate("{{ nodes.notify.output.items.0.id }}", s)).toBe("first");
  });

  it("renders missing values and null as empty text", () => {
    const s = scope();
    expect(
      renderTemplate("[{{ trigger.alternateId }}][{{ nodes.nope.output }}][{{ nodes.notify.output.items[9] }}]", s),
    ).toBe("[][][]");
  });

  it("renders numbers, booleans, objects and arrays", () => {
    const s = scope();
    expect(renderTemplate("{{ nodes.notify.output.status }} {{ nodes.notify.output.ok }}", s)).toBe("200 true");
    expect(renderTemplate("{{ nodes.notify.output.items[0] }}", s)).toBe('{"id":"first"}');
  });

  it("never reaches inherited properties", () => {
    expect(renderTemplate("{{ run.constructor }}{{ trigger.__proto__ }}{{ run.id.length }}", scope())).toBe("");
  });

  it("leaves text without placeholders and stray closing braces alone", () => {
    expect(renderTemplate('plain {"a":{"b":1}}', scope())).toBe('plain {"a":{"b":1}}');
  });

  it("throws TemplateError on an unclosed placeholder", () => {
    expect(() => renderTemplate("Hello {{ trigger.id", scope())).toThrow(TemplateError);
  });
});

describe("renderTemplateEncoded", () => {
  it("passes each inserted value through the output's escape, never the template's own text", () => {
    const s = scope({ trigger: eventFields({ displayName: "<b>&" }), run: { id: "<r>", workflowId: "w" } });
    const seen: string[] = [];
    const out = renderTemplateEncoded(
      "<i>{{ trigger.displayName }}</i> & {{ run.id }}{{ trigger.alternateId }}",
      s,
      (v) => {
        seen.push(v);
        return `[${v.replaceAll("<", "&lt;")}]`;
      },
    );
    expect(out).toBe("<i>[&lt;b>&]</i> & [&lt;r>][]");
    expect(seen).toEqual(["<b>&", "<r>", ""]);
  });
});

describe("renderJson", () => {
  it("keeps the JSON type of a string that is exactly one placeholder", () => {
    const body = {
      status: "{{ nodes.notify.output.status }}",
      ok: "{{nodes.notify.output.ok}}",
      items: "{{ nodes.notify.output.items }}",
      missing: "{{ nodes.notify.output.nothing }}",
      empty: "{{ nodes.notify.output.empty }}",
      text: "status {{ nodes.notify.output.status }}",
      nested: [{ who: "{{ trigger.displayName }}" }, 3, false, null],
      "{{ trigger.id }}": "keys stay literal",
    };
    expect(renderJson(body, scope())).toEqual({
      status: 200,
      ok: true,
      items: [{ id: "first" }, { id: "second" }],
      missing: null,
      empty: null,
      text: "status 200",
      nested: [{ who: "ci-token" }, 3, false, null],
      "{{ trigger.id }}": "keys stay literal",
    });
  });
});

describe("TemplateString", () => {
  it("accepts plain text and valid placeholders", () => {
    expect(TemplateString.safeParse("Token {{ trigger.displayName }} at {{ nodes.a-1.output.items[0] }}").success).toBe(
      true,
    );
    expect(TemplateString.safeParse("no placeholders }} here").success).toBe(true);
  });

  it("rejects an unbalanced {{ with a clear message", () => {
    const result = TemplateString.safeParse("Hello {{ trigger.displayName");
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('unclosed "{{" at position 6: every "{{" needs a matching "}}"');
  });

  it("rejects placeholders that are not paths", () => {
    for (const bad of ["{{ }}", "{{ trigger.id + 1 }}", "{{ a {{ b }}", "{{ fn() }}", "{{ a..b }}"]) {
      const result = TemplateString.safeParse(bad);
      expect(result.success, bad).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/^invalid placeholder/);
    }
  });
});

describe("references", () => {
  it("lists the normalised paths of a template", () => {
    expect(templateReferences("{{ trigger.id }} {{nodes.a.output.items.0}} {{ run.id }}")).toEqual([
      "trigger.id",
      "nodes.a.output.items[0]",
      "run.id",
    ]);
  });

  it("collects distinct paths from every string of a JSON value or an action", () => {
    const action = {
      type: "http",
      url: "https://example.com/{{ trigger.id }}",
      headers: { Authorization: { secret: "TOKEN" }, "X-Run": "{{ run.id }}" },
      body: { a: ["{{ trigger.id }}", { b: "{{ event.eventType }}" }], n: 1 },
    };
    expect(jsonTemplateReferences(action)).toEqual(["trigger.id", "run.id", "event.eventType"]);
  });
});

describe("checkTemplatePaths", () => {
  const nodes = new Set(["notify", "lookup"]);

  it("accepts Event Fields, known node outputs, run fields and count fields", () => {
    const paths = [
      "trigger.displayName",
      "event.eventType",
      "trigger",
      "nodes.lookup.output.json.id",
      "run.workflowId",
      "count.n",
      "count.events[0].uuid",
    ];
    expect(checkTemplatePaths(paths, nodes)).toBeNull();
  });

  it.each([
    [
      "secrets.TOKEN",
      "{{ secrets.TOKEN }}: unknown root 'secrets'; templates read trigger, event, nodes, run or count",
    ],
    ["trigger.foo", "{{ trigger.foo }}: unknown Event Field 'foo'; one of id, type, alternateId"],
    ["event.eventType.length", "{{ event.eventType.length }}: Event Fields are plain values with no properties"],
    ["nodes.missing.output", "{{ nodes.missing.output }}: unknown node 'missing'"],
    [
      "nodes.notify.status",
      "{{ nodes.notify.status }}: a node exposes only its output, e.g. {{ nodes.notify.output }}",
    ],
    ["run.secret", "{{ run.secret }}: unknown run field 'secret'; one of id, workflowId, late, lateBy, lateBySeconds"],
    [
      "count.total",
      "{{ count.total }}: unknown count field 'total'; one of key, by, distinct, n, withinSeconds, events",
    ],
    ["count.key.length", "{{ count.key.length }}: count.key is a plain value"],
  ])("rejects %s, naming the path", (path, message) => {
    expect(checkTemplatePaths([path], nodes)).toContain(message);
  });

  it("checks the references of a whole template end to end", () => {
    expect(checkTemplatePaths(templateReferences("Hi {{ trigger.displayNam }}"), [])).toMatch(
      /^\{\{ trigger\.displayNam \}\}: unknown Event Field 'displayNam'/,
    );
  });
});
