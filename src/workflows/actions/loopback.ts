/**
 * Local development only: actions may call a receiver on this machine over plain http
 * (`npm run catcher`), so every branch of a workflow can be seen working without Slack.
 * Enabled by ALLOW_LOOPBACK_HTTP="true", which .dev.vars.example sets for `npm run dev`
 * and which a deployment never has (it is not in wrangler.toml and not a secret we ask for).
 */

/** True for `http://` to 127.0.0.0/8, [::1] or localhost, when the env enables local development. */
export function isLoopbackAllowed(url: URL, env: object): boolean {
  if (Reflect.get(env, "ALLOW_LOOPBACK_HTTP") !== "true" || url.protocol !== "http:") return false;
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
