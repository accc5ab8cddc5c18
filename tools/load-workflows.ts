/**
 * `npm run workflows:load -- [--url <base>] [--token <t>] [--disabled] [files...]`:
 * saves workflow definition files into a running service through its API. A file
 * whose workflow name is new is created (POST); one whose name already exists gets a
 * new version (PUT), unless the stored definition is already the same. Default
 * files: examples/workflows/*.json.
 */
import { readdir, readFile } from "node:fs/promises";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { withCatcherUrl } from "../src/workflows/catcher-url";
import { parseDefinition } from "../src/workflows/validate";
import { fetchOrExplain, parseCli, printedHelp, runCli, UsageError } from "./cli/args";
import { readDevVars } from "./dev-vars";
import { catcherUrl, localBaseUrl } from "./local-url";

const ROOT = new URL("../", import.meta.url);
const EXAMPLES = new URL("examples/workflows/", ROOT);

const HELP = `Loads workflow definitions into a running service (create, or a new version of the same name).

Usage: npm run workflows:load -- [options] [files...]

  files             definition files (default: examples/workflows/*.json)
  --url <url>       service base URL (default http://127.0.0.1:$PORT; PORT as for npm run dev, else 8787)
  --token <token>   admin token (default ADMIN_TOKEN from .dev.vars, else local-admin-token)
  --disabled        create new workflows disabled (existing ones keep their state)
  -h, --help        this text

A URL starting with \${CATCHER_URL} (the examples' pager) is pointed at the local receiver:
http://127.0.0.1:$CATCHER_PORT when set, else CATCHER_URL (environment, then .dev.vars),
else http://127.0.0.1:8788.`;

// What this tool reads from the API's answers (the service validates what it is sent).
const Workflow = z.object({ id: z.string(), name: z.string(), enabled: z.boolean(), currentVersion: z.number() });
type Workflow = z.infer<typeof Workflow>;
const WorkflowList = z.object({ workflows: z.array(Workflow) });
const WorkflowDetail = Workflow.extend({ definition: z.unknown() });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
/** Just enough of a file to find its workflow; `enabled` is the API's extra field, not part of a definition. */
const DefinitionFile = z.looseObject({
  name: z.string({ error: 'no "name": the name is what identifies a workflow' }).trim().min(1),
  enabled: z.boolean().optional(),
});

async function defaultFiles(): Promise<string[]> {
  const names = (await readdir(EXAMPLES)).filter((name) => name.endsWith(".json")).sort();
  return names.map((name) => relative(process.cwd(), fileURLToPath(new URL(name, EXAMPLES))));
}

/** Key order does not matter when comparing definitions. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

class Api {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  /** Calls the admin API and parses its answer; throws with the service's own error message on a non-2xx answer. */
  async call<T>(schema: z.ZodType<T>, method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(`/api${path}`, this.base);
    let res: Response;
    try {
      res = await fetchOrExplain(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (is the service running? npm run dev)`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (err) {
      // Not JSON (a proxy's error page, say): the status and the text below explain the failure.
      if (!(err instanceof SyntaxError)) throw err;
    }
    if (res.status === 401) throw new Error("the admin token was refused (401); pass --token or set ADMIN_TOKEN");
    if (!res.ok) {
      const error = ErrorBody.safeParse(json);
      const reason = error.success ? `${error.data.error.code}: ${error.data.error.message}` : text.slice(0, 300);
      throw new Error(`HTTP ${res.status} ${reason || res.statusText}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error(`unexpected answer to ${method} ${url.pathname}: ${text.slice(0, 300)}`);
    return parsed.data;
  }
}

/** Saves one file; returns the line to print. Throws with a message naming the problem. */
async function load(
  api: Api,
  file: string,
  byName: Map<string, Workflow[]>,
  createEnabled: boolean,
  catcher: string | undefined,
): Promise<string> {
  let json: unknown;
  try {
    json = withCatcherUrl(JSON.parse(await readFile(file, "utf8")), catcher);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new Error(`not JSON: ${err.message}`);
  }
  const parsed = DefinitionFile.safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "not a workflow definition");
  const { enabled: fileEnabled, ...definition } = parsed.data;
  const name = definition.name;
  const matches = byName.get(name) ?? [];
  if (matches.length > 1) {
    throw new Error(`${matches.length} workflows are named "${name}" (${matches.map((w) => w.id).join(", ")})`);
  }
  const [existing] = matches;
  if (!existing) {
    const body = { ...definition, enabled: createEnabled && (fileEnabled ?? true) };
    const created = await api.call(Workflow, "POST", "/workflows", body);
    byName.set(created.name, [created]);
    return `created    "${created.name}"  id ${created.id}  v${created.currentVersion}${created.enabled ? "" : "  (disabled)"}`;
  }
  const current = await api.call(WorkflowDetail, "GET", `/workflows/${existing.id}`);
  const local = parseDefinition(definition);
  if (local.ok && canonical(local.definition) === canonical(current.definition)) {
    return `unchanged  "${current.name}"  id ${current.id}  v${current.currentVersion}`;
  }
  const updated = await api.call(Workflow, "PUT", `/workflows/${existing.id}`, definition);
  return `updated    "${updated.name}"  id ${updated.id}  v${updated.currentVersion}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    argv,
    { url: { type: "string" }, token: { type: "string" }, disabled: { type: "boolean" } },
    { positionals: true },
  );
  if (printedHelp(values, HELP)) return 0;
  const base = values.url ?? localBaseUrl(process.env.PORT);
  if (!URL.canParse(base)) throw new UsageError(`--url is not a URL: ${base}`);
  const devVars = await readDevVars();
  const token = values.token ?? (devVars.ADMIN_TOKEN || undefined) ?? "local-admin-token";
  const catcher = catcherUrl(process.env, devVars);
  const files = positionals.length > 0 ? positionals : await defaultFiles();
  if (files.length === 0) throw new UsageError("no files to load");

  const api = new Api(base, token);
  const byName = new Map<string, Workflow[]>();
  for (const workflow of (await api.call(WorkflowList, "GET", "/workflows")).workflows) {
    byName.set(workflow.name, [...(byName.get(workflow.name) ?? []), workflow]);
  }
  const width = Math.max(...files.map((file) => file.length));
  let failed = 0;
  for (const file of files) {
    try {
      console.log(`${file.padEnd(width)}  ${await load(api, file, byName, !values.disabled, catcher)}`);
    } catch (err) {
      failed += 1;
      console.log(`${file.padEnd(width)}  REJECTED   ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failed > 0) console.error(`${failed} of ${files.length} file(s) not loaded`);
  return failed > 0 ? 1 : 0;
}

runCli(HELP, main);
