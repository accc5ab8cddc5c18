/**
 * Every problem in a definition as typed into the editor, each placed at the line
 * and column where it was made: JSON syntax errors, then schema errors (all of them,
 * not only the first), then the graph and reference check that saving runs. Pure.
 */
import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { z } from "zod";
import { describeIssue } from "../validation";
import { WorkflowDefinition } from "../workflows/definition";
import { parseDefinition } from "../workflows/validate";

export interface Problem {
  message: string;
  /** 1-based; null when the problem has no place in the text (an empty document). */
  line: number | null;
  column: number | null;
  offset: number | null;
  length: number;
}

export type Checked = { ok: true; definition: WorkflowDefinition } | { ok: false; problems: Problem[] };

type Segment = string | number;

function position(text: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

function at(text: string, message: string, offset: number | null, length = 0): Problem {
  if (offset === null) return { message, line: null, column: null, offset: null, length: 0 };
  return { message, ...position(text, offset), offset, length };
}

/** The closest node to `path` that exists in the text: a missing property is reported on its parent. */
function locate(root: Node, path: readonly Segment[]): Node {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = findNodeAtLocation(root, path.slice(0, depth) as Segment[]);
    if (node) {
      // Point at the property name, where the eye looks, rather than at its value.
      const property = node.parent?.type === "property" ? node.parent : node;
      return property;
    }
  }
  return root;
}

/** "nodes.alert.next" or "nodes.a.action.headers[0]" back into path segments. */
function parsePath(text: string): Segment[] {
  return (text.match(/[^.[\]]+|\[\d+\]/g) ?? []).map((part) =>
    part.startsWith("[") ? Number(part.slice(1, -1)) : part,
  );
}

/** Checks the editor's text; on success returns the definition exactly as saving would store it. */
export function checkDefinitionText(text: string): Checked {
  const syntax: ParseError[] = [];
  const root = parseTree(text, syntax, { disallowComments: true, allowTrailingComma: false });
  if (syntax.length > 0 || !root) {
    const problems = syntax.map((error) =>
      at(text, `JSON: ${printParseErrorCode(error.error)}`, error.offset, error.length),
    );
    return { ok: false, problems: problems.length > 0 ? problems : [at(text, "JSON: the document is empty", null)] };
  }
  const value: unknown = JSON.parse(text);
  const shape = WorkflowDefinition.safeParse(value);
  if (!shape.success) {
    const problems = shape.error.issues.map((issue) => {
      const node = locate(
        root,
        issue.path.filter((p): p is Segment => typeof p !== "symbol"),
      );
      return at(text, describeIssue(new z.ZodError([issue])), node.offset, node.length);
    });
    return { ok: false, problems };
  }
  const result = parseDefinition(value);
  if (result.ok) return result;
  // The graph check names its place as the start of the message: "nodes.x.next: refers to unknown node 'y'".
  const split = result.error.indexOf(": ");
  const node = locate(root, split > 0 ? parsePath(result.error.slice(0, split)) : []);
  return { ok: false, problems: [at(text, result.error, node.offset, node.length)] };
}
