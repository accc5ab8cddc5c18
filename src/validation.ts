/** Turning zod failures into one readable sentence that names the offending field. */
import type { z } from "zod";

type Issue = z.core.$ZodIssue;

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

/** For a union, the branch that got furthest is the one the author meant. */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  let best: Issue = issue;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first) continue;
    const candidate = mostSpecific({ ...first, path: [...issue.path, ...first.path] });
    if (best === issue || candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}

/**
 * One `{ path, message }` per problem of an issue. A strict object's unknown keys are
 * named by their own path (`trigger.types: unknown key`), not the object's.
 */
function located(first: Issue): Array<{ path: string; message: string }> {
  const issue = mostSpecific(first);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: "unknown key" }));
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** Describes the first problem as `path: message`, e.g. `data.events[0].uuid: Invalid input: expected string`. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid input";
  const [problem] = located(first);
  if (!problem) return "invalid input";
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** Every problem, each as `path: message` (the most specific branch of a union), in the order zod found them. */
export function describeIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.flatMap(located);
}
