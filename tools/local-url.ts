/**
 * Where `npm run dev` serves: 127.0.0.1 on PORT (default 8787). The local tools follow
 * the same PORT, so `PORT=8790 npm run dev` and `PORT=8790 npm run okta` meet. Pure.
 */
export const DEFAULT_PORT = 8787;

/** The service's base URL for a PORT value (from the environment); throws on a value that is not a port. */
export function localBaseUrl(port: string | undefined): string {
  if (port === undefined || port.trim() === "") return `http://127.0.0.1:${DEFAULT_PORT}`;
  const number = Number(port);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    throw new Error(`PORT must be a port number from 1 to 65535 (got "${port}")`);
  }
  return `http://127.0.0.1:${number}`;
}

/**
 * Where `npm run catcher` listens, for filling the examples' `${CATCHER_URL}`:
 * CATCHER_PORT (the variable the catcher itself reads), else CATCHER_URL (environment,
 * then .dev.vars, which the Worker reads too), else undefined (the default, 8788).
 */
export function catcherUrl(env: Record<string, string | undefined>, devVars: Record<string, string | undefined>) {
  const port = env.CATCHER_PORT?.trim();
  if (port) {
    const number = Number(port);
    if (!Number.isInteger(number) || number < 1 || number > 65535) {
      throw new Error(`CATCHER_PORT must be a port number from 1 to 65535 (got "${port}")`);
    }
    return `http://127.0.0.1:${number}`;
  }
  return env.CATCHER_URL || devVars.CATCHER_URL || undefined;
}
