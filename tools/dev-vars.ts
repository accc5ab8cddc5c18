/** The local secrets in .dev.vars (dotenv format), for the Node-side tools. A missing file gives no values. */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";

const DEV_VARS = fileURLToPath(new URL("../.dev.vars", import.meta.url));

export async function readDevVars(): Promise<Record<string, string | undefined>> {
  const text = await readFile(DEV_VARS, "utf8").catch(() => "");
  return parseEnv(text);
}
