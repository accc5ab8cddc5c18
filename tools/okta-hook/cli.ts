/** Entry point of `npm run okta:hook`; see command.ts. Reads .dev.vars for what the environment leaves unset. */
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";
import { runHookCommand } from "./command";

const devVars = await readDevVars();
const env = {
  OKTA_HOOK_URL: new URL("/hooks/okta", localBaseUrl(process.env.PORT)).href,
  ...devVars,
  ...process.env,
};
process.exitCode = await runHookCommand(process.argv.slice(2), env);
