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

/** Describes the first problem as `path: message`, e.g. `data.events[0].uuid: Invalid input: expected string`. */
export function describeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return "invalid input";
  const issue = mostSpecific(first);
  const path = formatPath(issue.path);
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Every problem, each as `path: message` (the most specific branch of a union), in the order zod found them. */
export function describeIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((first) => {
    const issue = mostSpecific(first);
    return { path: formatPath(issue.path), message: issue.message };
  });
}
