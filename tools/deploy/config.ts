/**
 * What the deploy tools need from wrangler.toml (names of the Worker, the database and
 * the queues; the vars Okta's side depends on), and the one edit they make to it:
 * the D1 database_id, written in place so that comments and layout stay as they are.
 */
import { parse } from "smol-toml";
import { z } from "zod";

/** The database_id wrangler.toml ships with: not a real database yet. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

const WranglerToml = z.object({
  name: z.string(),
  vars: z.record(z.string(), z.string()).default({}),
  d1_databases: z.array(z.object({ binding: z.string(), database_name: z.string(), database_id: z.string() })).min(1),
  queues: z.object({
    producers: z.array(z.object({ queue: z.string() })).default([]),
    consumers: z.array(z.object({ queue: z.string(), dead_letter_queue: z.string().optional() })).default([]),
  }),
});

export interface ProjectConfig {
  workerName: string;
  database: { binding: string; name: string; id: string };
  /** Every queue the Worker produces to or consumes from, dead-letter queues included. */
  queues: string[];
  vars: Record<string, string>;
}

export function readProjectConfig(toml: string): ProjectConfig {
  const config = WranglerToml.parse(parse(toml));
  const [db] = config.d1_databases;
  if (!db) throw new Error("wrangler.toml has no [[d1_databases]]");
  const queues = new Set<string>();
  for (const { queue } of config.queues.producers) queues.add(queue);
  for (const { queue, dead_letter_queue } of config.queues.consumers) {
    queues.add(queue);
    if (dead_letter_queue) queues.add(dead_letter_queue);
  }
  return {
    workerName: config.name,
    database: { binding: db.binding, name: db.database_name, id: db.database_id },
    queues: [...queues],
    vars: config.vars,
  };
}

/** wrangler.toml with the database_id of the `[[d1_databases]]` entry named `databaseName` replaced (pure). */
export function withDatabaseId(toml: string, databaseName: string, id: string): string {
  const blocks = toml.split(/(?=^\[\[?[^\]]+\]\]?\s*$)/m);
  let found = false;
  const edited = blocks.map((block) => {
    if (!/^\[\[d1_databases\]\]/.test(block)) return block;
    if (!new RegExp(`^database_name\\s*=\\s*"${escapeRegExp(databaseName)}"`, "m").test(block)) return block;
    found = true;
    return block.replace(/^database_id\s*=\s*"[^"]*"/m, `database_id = "${id}"`);
  });
  if (!found) throw new Error(`wrangler.toml has no [[d1_databases]] entry named ${databaseName}`);
  return edited.join("");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The secrets the Worker reads: the two it cannot run without, and those workflows may use (WORKFLOW_SECRETS). */
export function secretNames(vars: Record<string, string>): { required: string[]; optional: string[] } {
  const declared = z.record(z.string(), z.unknown()).safeParse(JSON.parse(vars.WORKFLOW_SECRETS ?? "{}"));
  const workflowSecrets = declared.success ? declared.data : {};
  const optional = Object.keys(workflowSecrets);
  // An "okta" secret is the Okta API token; okta actions also need the org's URL.
  if (Object.values(workflowSecrets).includes("okta")) optional.unshift("OKTA_ORG_URL");
  return { required: ["OKTA_HOOK_SECRET", "ADMIN_TOKEN"], optional };
}
