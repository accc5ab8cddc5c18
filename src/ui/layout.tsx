/** The page frame: head, navigation, sign-out, and the one stylesheet and script (Workers static assets). */
import { html } from "hono/html";
import type { Child } from "hono/jsx";

export type Section = "overview" | "events" | "runs" | "workflows" | "catalogue" | "assets" | "dead-letters";

const NAV: Array<[Section, string, string]> = [
  ["overview", "/", "Overview"],
  ["events", "/events", "Events"],
  ["runs", "/runs", "Run History"],
  ["workflows", "/workflows", "Workflows"],
  ["catalogue", "/catalogue", "Event catalogue"],
  ["assets", "/assets", "Assets"],
  ["dead-letters", "/dead-letters", "Dead letters"],
];

export function Layout(props: { title: string; section?: Section; children: Child; signedIn?: boolean }) {
  // The doctype keeps browsers out of quirks mode; JSX cannot express it.
  return html`<!doctype html>${(
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Okta event workflows`}</title>
        <link rel="stylesheet" href="/ui/dashboard.css" />
        <script src="/ui/dashboard.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Okta event workflows
          </a>
          {props.signedIn !== false && (
            <>
              <nav aria-label="Sections">
                {NAV.map(([section, href, label]) => (
                  <a href={href} aria-current={section === props.section ? "page" : undefined}>
                    {label}
                  </a>
                ))}
              </nav>
              <form method="post" action="/logout" class="signout">
                <button type="submit">Sign out</button>
              </form>
              {/* Ends every browser's admin-token session, e.g. after signing in on a shared machine. */}
              <form method="post" action="/logout/everywhere" class="signout">
                <button type="submit">Sign out everywhere</button>
              </form>
            </>
          )}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  )}`;
}
