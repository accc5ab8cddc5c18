/**
 * The dashboard at `/`: server-rendered pages (Hono JSX) over the same D1 verbs as
 * the admin API, a stylesheet and one small script served as Workers static assets
 * (public/ui/). Every page needs a signed-in viewer (auth.ts); every form post is
 * checked against cross-site requests; a Content-Security-Policy allows only this
 * origin's script and styles, so even a slip in escaping could not run a script.
 */
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { AppError, errorResponse } from "../errors";
import { type DashboardEnv, requireViewer } from "./auth";
import { Layout } from "./layout";
import { assetsPages } from "./pages/assets";
import { cataloguePage } from "./pages/catalogue";
import { deadLettersPages } from "./pages/dead-letters";
import { eventsPages } from "./pages/events";
import { loginPages } from "./pages/login";
import { overviewPage } from "./pages/overview";
import { runsPages } from "./pages/runs";
import { workflowsPages } from "./pages/workflows";

export const dashboard = new Hono<DashboardEnv>();

const headers = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: "same-origin",
  // Agrees with frame-ancestors 'none' for browsers that only know this header.
  xFrameOptions: "DENY",
});

/**
 * The dashboard's own paths. Middleware is registered on these, not on "*": the
 * dashboard is mounted at "/", and "*" would also wrap /api and /hooks answers.
 */
const PAGES = ["/", "/events/*", "/runs/*", "/workflows/*", "/catalogue", "/assets/*", "/dead-letters/*"];

for (const path of [...PAGES, "/login", "/logout", "/logout/everywhere"]) {
  // csrf refuses form posts from other sites (Origin / Sec-Fetch-Site); the SameSite=Strict cookie is the second lock.
  dashboard.use(path, headers, csrf());
}
dashboard.route("/", loginPages);
for (const path of PAGES) dashboard.use(path, requireViewer);
dashboard.route("/", overviewPage);
dashboard.route("/", eventsPages);
dashboard.route("/", runsPages);
dashboard.route("/", workflowsPages);
dashboard.route("/", cataloguePage);
dashboard.route("/", assetsPages);
dashboard.route("/", deadLettersPages);

/** Errors on a page are pages too: the status, the message, and a way back. */
dashboard.onError((err, c) => {
  if (!(err instanceof AppError)) return errorResponse(err, c);
  return c.html(
    <Layout title={err.status === 404 ? "Not found" : "That did not work"}>
      <p class="error" role="alert">
        {err.message}
      </p>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>,
    err.status,
    err.headers,
  );
});
