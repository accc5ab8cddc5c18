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
