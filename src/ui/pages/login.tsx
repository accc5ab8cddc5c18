/** `/login`, `/logout` and `/logout/everywhere`: exchange the admin token for a session, and end one or all of them. */
import { Hono } from "hono";
import { z } from "zod";
import { CLIENT_IP_HEADER, failureLimit, recordFailure } from "../../limits/failures";
import { secretMatches } from "../../okta/secret";
import { type DashboardEnv, requireViewer } from "../auth";
import { Layout } from "../layout";
import { safeNext } from "../next-path";
import { readForm } from "../query";
import { endAllSessions, endSession, startSession } from "../session";

/** Why the last attempt did not sign in, shown above the form. */
type Refusal = "wrong_token" | { retryAfterSeconds: number };

function refusalText(refusal: Refusal): string {
  if (refusal === "wrong_token") return "That token is not the admin token.";
  const minutes = Math.ceil(refusal.retryAfterSeconds / 60);
  return `Too many failed sign-ins from your address. Try again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
}

function LoginPage(props: { next: string; refusal?: Refusal }) {
  return (
    <Layout title="Sign in" signedIn={false}>
      <form method="post" action="/login" class="login">
        <p>Sign in with the admin token (the ADMIN_TOKEN secret; locally it is in .dev.vars).</p>
        {props.refusal && (
          <p class="error" role="alert">
            {refusalText(props.refusal)}
          </p>
        )}
        <input type="hidden" name="next" value={props.next} />
        <label>
          Admin token
          <input type="password" name="token" required autocomplete="current-password" autofocus />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Layout>
  );
}

const LoginForm = z.object({ token: z.string().max(1000), next: z.string().max(2000).optional() });

export const loginPages = new Hono<DashboardEnv>()
  .get("/login", (c) => c.html(<LoginPage next={safeNext(c.req.query("next"), new URL(c.req.url).origin)} />))
  .post("/login", async (c) => {
    const form = await readForm(c, LoginForm);
    const next = safeNext(form.next, new URL(c.req.url).origin);
    const ip = c.req.header(CLIENT_IP_HEADER);
    // The same budget as /api's bearer token: a blocked address is refused whatever it typed.
    const right = await secretMatches(form.token, c.env.ADMIN_TOKEN);
    const limit = right ? await failureLimit(c.env, "admin", ip) : await recordFailure(c.env, "admin", ip);
    if (limit.blocked) {
      const headers = { "Retry-After": String(limit.retryAfterSeconds) };
      return c.html(<LoginPage next={next} refusal={limit} />, 429, headers);
    }
    if (!right) return c.html(<LoginPage next={next} refusal="wrong_token" />, 401);
    await startSession(c, new Date());
    return c.redirect(next, 303);
  })
  .post("/logout", async (c) => {
    await endSession(c);
    return c.redirect("/login", 303);
  })
  // Only a signed-in viewer may end everyone's sessions; a stolen cookie is ended too.
  .post("/logout/everywhere", requireViewer, async (c) => {
    await endAllSessions(c);
    return c.redirect("/login", 303);
  });
