/**
 * `/hooks/okta` (the single-org hook) and `/hooks/okta/:source` (a named org of
 * OKTA_SOURCES): the endpoints Okta's Event Hooks point at. Answers the one-time
 * verification GET and accepts deliveries, always well inside Okta's 3 s timeout.
 * Every rejection happens before anything is written. A wrong or missing secret counts
 * against the client address's "hook" budget (429 once it is spent); the right secret
 * always passes and costs nothing.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors";
import { acceptDelivery, storeDeliveryOnly } from "../ingest";
import { CLIENT_IP_HEADER, recordFailure, tooManyFailures } from "../limits/failures";
import { errorText, logError, logInfo } from "../log";
import { checkDelivery, isSystemLogDelivery } from "../okta/envelope";
import { anySecretMatches } from "../okta/secret";
import { hookAuth } from "../okta/sources";
import { describeIssue } from "../validation";

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Okta's challenges are ~40 characters; anything far longer is not Okta. */
const MAX_CHALLENGE_LENGTH = 1024;

/** `/okta` and `/okta/<source>`: one set of handlers, the source decides the secrets. */
const HOOK_PATH = "/okta/:source?";

export const hooks = new Hono<{ Bindings: Env; Variables: { hookSource: string | null } }>();

/**
 * One log line per delivery: accepted (with the counts, in the handler) or refused
 * (here, with the status and the error code). A refusal is the sender's problem, so it
 * is info, not a warning; a 5xx is logged where it happens, with its cause. Nothing
 * Okta sent is logged, not even on a refusal: the body may be anything, and the secret
 * header is never echoed.
 */
hooks.use(HOOK_PATH, async (c, next) => {
  const started = Date.now();
  await next();
  if (c.req.method !== "POST" || !(c.error instanceof AppError) || c.res.status >= 500) return;
  // Only a declared source's name (an undeclared path segment is the caller's text, never
  // logged); undefined drops the key, so single-org lines stay as they were.
  const source = c.get("hookSource") ?? undefined;
  logInfo("delivery refused", { status: c.res.status, code: c.error.code, source, ms: Date.now() - started });
});

/** Okta sends the configured secret header on the GET challenge and on every POST; HEAD is GET without a body, so it needs the secret too. */
hooks.use(HOOK_PATH, async (c, next) => {
  const resolved = hookAuth(c.env, c.req.param("source") ?? null);
  if (resolved.kind === "unknown") throw new AppError(404, "not_found", "no such hook source");
  if (resolved.kind === "misconfigured") {
    // The reason names config, never secret values; it goes to the log, not to the caller.
    logError("named hook sources refused: OKTA_SOURCES is invalid", { reason: resolved.error });
    throw new AppError(503, "unavailable", "named hook sources are not configured correctly");
  }
  const { auth } = resolved;
  c.set("hookSource", auth.source);
  if (!["GET", "HEAD", "POST"].includes(c.req.method)) return next();
  if (auth.missingSecret)
    logError("hook source has no secret set", { source: auth.source, secret: auth.missingSecret });
  if (!(await anySecretMatches(c.req.header(auth.headerName) ?? null, auth.secrets))) {
    // Counted per client address; a good delivery is never asked, so Okta is never limited (docs/security.md).
    const limit = await recordFailure(c.env, "hook", c.req.header(CLIENT_IP_HEADER));
    if (limit.blocked) throw tooManyFailures(limit);
    // One message for missing and wrong alike; never echo what was sent.
    throw new AppError(401, "unauthorized", "missing or invalid hook secret");
  }
  return next();
});

hooks.get(HOOK_PATH, (c) => {
  const challenge = c.req.header("x-okta-verification-challenge");
  if (!challenge) throw new AppError(400, "bad_request", "x-okta-verification-challenge header is required");
  if (challenge.length > MAX_CHALLENGE_LENGTH) {
    throw new AppError(400, "bad_request", "x-okta-verification-challenge header is too long");
  }
  return c.json({ verification: challenge });
});

hooks.post(
  HOOK_PATH,
  (c, next) => {
    const contentType = c.req.header("content-type") ?? "";
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
      throw new AppError(415, "unsupported_media_type", "content-type must be application/json");
    }
    return next();
  },
  (c, next) =>
    bodyLimit({
      maxSize: Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, "payload_too_large", "delivery body is too large");
      },
    })(c, next),
  async (c) => {
    const receivedAt = new Date();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      throw new AppError(
        400,
        "bad_request",
        `body is not valid JSON: ${err instanceof Error ? err.message : "parse error"}`,
      );
    }
    const parsed = checkDelivery(body);
    if (!parsed.success)
      throw new AppError(400, "bad_request", `not an Okta event hook delivery: ${describeIssue(parsed.error)}`);

    const deliveryId = parsed.data.eventId;
    const source = c.get("hookSource") ?? null;
    let accepted: Awaited<ReturnType<typeof acceptDelivery>>;
    try {
      // History sent to the hook (an older okta:backfill) is kept but starts nothing, as on /api/backfill.
      accepted = isSystemLogDelivery(parsed.data)
        ? {
            ...(await storeDeliveryOnly(c.env.DB, parsed.data, receivedAt, source)),
            enqueued: false,
          }
        : await acceptDelivery(c.env.DB, c.env.EVENTS, parsed.data, receivedAt, source);
    } catch (err) {
      // Nothing was stored (one D1 batch); 503 makes Okta retry once.
      logError("could not store delivery", { deliveryId, source: source ?? undefined, error: errorText(err) });
      throw new AppError(503, "unavailable", "the delivery could not be stored; retry later");
    }
    logInfo("delivery accepted", {
      deliveryId,
      source: source ?? undefined,
      events: accepted.received,
      stored: accepted.stored,
      duplicates: accepted.received - accepted.stored,
      enqueued: accepted.enqueued,
      // Only on System Log history: stored, never queued on purpose (not a failed send).
      storeOnly: isSystemLogDelivery(parsed.data) || undefined,
      ms: Date.now() - receivedAt.getTime(),
    });
    return c.body(null, 200);
  },
);

hooks.all(HOOK_PATH, (c) =>
  c.json({ error: { code: "method_not_allowed", message: `${c.req.method} is not supported on this endpoint` } }, 405, {
    Allow: "GET, POST",
  }),
);
