/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core)
 * against the real local service (`wrangler dev`). One story, in order: sign in, watch
 * an event arrive, create and break and dry-run a workflow, watch a run wait and
 * complete, terminate one, try a cross-site post and a hostile display name, follow the
 * link of an event whose uuid holds `?#/`, sign in through a `next` that only looks like
 * a path, sign out; then replay a signed-out cookie, sign out everywhere from a second
 * browser, and last (it leaves the local address blocked) guess the token until refused.
 * Every page it visits is screenshotted (see SHOTS; the README shows some).
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oktaDelivery, oktaEvent, oktaHeaders } from "../../tools/local-okta/builders";
import { ADMIN_TOKEN, freePort, HOOK_SECRET, type LocalService, ROOT, startLocalService } from "./local-service";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Screenshots land in a gitignored folder, so a test run leaves the work tree clean;
// `UPDATE_SCREENSHOTS=1 npm test` refreshes the ones the README shows.
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? `${ROOT}docs/screenshots` : `${ROOT}test/browser/screenshots`;

let service: LocalService;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

async function deliver(events: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${service.url}/hooks/okta`, {
    method: "POST",
    headers: oktaHeaders(HOOK_SECRET),
    body: JSON.stringify(oktaDelivery(events)),
  });
  expect(res.status).toBe(200);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

const textOf = async (locator: Locator) => ((await locator.first().textContent({ timeout: 2000 })) ?? "").trim();

/** Waits (up to `timeoutMs`) until the first match's text is `expected`. */
async function hasText(locator: Locator, expected: string | RegExp, timeoutMs = 5000): Promise<void> {
  await eventually(async () => {
    const text = await textOf(locator);
    if (typeof expected === "string") expect(text).toBe(expected);
    else expect(text).toMatch(expected);
  }, timeoutMs);
}

async function containsText(locator: Locator, expected: string, timeoutMs = 5000): Promise<void> {
  await eventually(async () => expect(await textOf(locator)).toContain(expected), timeoutMs);
}

async function hasCount(locator: Locator, expected: number, timeoutMs = 5000): Promise<void> {
  await eventually(async () => expect(await locator.count()).toBe(expected), timeoutMs);
}

/** Reloads until `check` passes: for state the queue consumer writes a moment later. */
async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** The id of the newest run of the workflow on the asset, read from Run History. */
async function newestRunId(assetId: string): Promise<string> {
  let href: string | null = null;
  await eventually(async () => {
    await page.goto(`${service.url}/runs?id=${encodeURIComponent(assetId)}`);
    href = await page.locator("#live-rows tr a[href^='/runs/']").first().getAttribute("href", { timeout: 1000 });
    expect(href).toBeTruthy();
  });
  return String(href).replace("/runs/", "");
}

beforeAll(async () => {
  service = await startLocalService();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    // The terminate button asks for confirmation; anything else would be a script we did not write.
    void (dialog.type() === "confirm" ? dialog.accept() : dialog.dismiss());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

describe("the dashboard in a browser", () => {
  let workflowId = "";

  it("sends a signed-out browser to sign in, refuses a wrong token, accepts the admin token", async () => {
    await page.goto(`${service.url}/events`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await hasText(page.getByRole("alert"), "That token is not the admin token.");
    await shot("login");
    await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await page.getByLabel("Admin token").press("Enter");
    await page.waitForURL(`${service.url}/events`);
    const cookie = (await page.context().cookies()).find((c) => c.name === "session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  });

  it("shows an event sent with `npm run okta` without a reload, and opens it", async () => {
    await page.goto(`${service.url}/events`);
    const marker = await page.evaluate(() => {
      (window as unknown as { marker: string }).marker = "same page";
      return "same page";
    });
    await promisify(execFile)(
      "npm",
      [
        "run",
        "-s",
        "okta",
        "--",
        "send",
        "system.api_token.create",
        "--asset",
        "00TBROWSER1",
        "--name",
        "ci-deploy-token",
        "--url",
        `${service.url}/hooks/okta`,
        "--secret",
        HOOK_SECRET,
      ],
      { cwd: ROOT },
    );
    const row = page.locator("#live-rows tr", { hasText: "00TBROWSER1" });
    await row.waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(marker);
    await shot("events");
    await row.getByRole("link").first().click();
    await hasText(page.locator("h1"), "ci-deploy-token");
    await containsText(page.locator(".fields"), "system.api_token.create");
    await containsText(page.locator(".json-viewer"), "transaction");
    await shot("event");
  });

  it("creates a workflow from an example and draws it", async () => {
    await page.goto(`${service.url}/workflows/new`);
    await shot("workflow-new");
    await page.getByRole("link", { name: "Import watchdog" }).click();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    workflowId = new URL(page.url()).pathname.split("/")[2] ?? "";
    await hasText(page.locator("h1"), "Import watchdog");
    // Trigger, one event node, two conditions, three actions, and the end marks.
    await hasCount(page.locator(".diagram .node.kind-event"), 1);
    await hasCount(page.locator(".diagram .node.kind-condition"), 2);
    await hasCount(page.locator(".diagram .node.kind-action"), 3);
    await hasCount(page.locator(".diagram .edge-label", { hasText: "Timeout" }), 1);
    await shot("workflow");
    await page.goto(`${service.url}/workflows`);
    await containsText(page.locator("table.list"), "Import watchdog");
    await shot("workflows");
  });

  it("shows a broken definition's error on the line where it was made", async () => {
    await page.goto(`${service.url}/workflows/${workflowId}/edit`);
    const editor = page.locator("#definition");
    const text = await editor.inputValue();
    await editor.fill(text.replace('"onTimeout": "alertStuck"', '"onTimeout": "alertStuk"'));
    await page.getByRole("button", { name: "Validate without saving" }).click();
    const problem = page.locator(".problems li").first();
    await containsText(problem, "nodes.waitForOutcome.onTimeout: refers to unknown node 'alertStuk'");
    const line = (await editor.inputValue()).split("\n").findIndex((l) => l.includes("alertStuk")) + 1;
    await hasText(problem.locator("a.problem"), new RegExp(`^line ${line},`));
    await containsText(problem.locator(".excerpt .line.at"), '"onTimeout": "alertStuk"');
    await shot("editor-problem");
    // Keyboard: following the problem link puts the selection on the offending text.
    await problem.locator("a.problem").focus();
    await page.keyboard.press("Enter");
    const selected = await editor.evaluate((el: HTMLTextAreaElement) =>
      el.value.slice(el.selectionStart, el.selectionEnd),
    );
    expect(selected).toContain("onTimeout");

    // Mend it, save version 2, and look at its diff.
    await editor.fill(text.replace('"timeoutSeconds": 7200', '"timeoutSeconds": 3600'));
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(`${service.url}/workflows/${workflowId}`);
    await page.getByRole("link", { name: "version 2" }).click();
    await containsText(page.locator("pre.diff .removed"), '"timeoutSeconds": 7200');
    await containsText(page.locator("pre.diff .added"), '"timeoutSeconds": 3600');
    await shot("workflow-version");
  });

  it("dry-runs a definition against a stored event without sending anything", async () => {
    await deliver([oktaEvent({ eventType: "system.import.start", assetId: "0oaDRYRUN1" })]);
    await page.goto(`${service.url}/workflows/${workflowId}/edit`);
    const option = page.locator("select[name=triggerUuid] option", { hasText: "Import started" }).first();
    await page.locator("select[name=triggerUuid]").selectOption(await option.getAttribute("value"));
    await page.getByRole("button", { name: "Dry run" }).click();
    const result = page.locator(".dry-run-result");
    await containsText(result, "no matching event given: timeout path");
    // The Slack webhook secret is not configured here, so the action reports that instead of sending.
    await containsText(result, "secret SLACK_WEBHOOK_URL is not set");
    await containsText(result, "Nothing was sent.");
    await shot("dry-run");
  });

  it("shows a run waiting, then completed with its path highlighted", async () => {
    await deliver([oktaEvent({ eventType: "system.import.start", assetId: "0oaBROWSER2" })]);
    const runId = await newestRunId("0oaBROWSER2");
    await page.goto(`${service.url}/runs/${runId}`);
    await eventually(async () => {
      await page.reload();
      await hasText(page.locator(".subtitle .badge").first(), "waiting", 500);
    });
    await containsText(page.locator(".card.waiting"), "Import complete, Import roadblocks");
    await hasCount(page.locator(".diagram .node.state-waiting"), 1);
    await shot("run-waiting");
    await page.goto(`${service.url}/assets/0oaBROWSER2`);
    await containsText(page.locator("table.list"), "waitForOutcome");
    await shot("asset");

    await page.goto(`${service.url}/runs/${runId}`);
    await deliver([oktaEvent({ eventType: "system.import.complete", assetId: "0oaBROWSER2" })]);
    // No reload: the run block refreshes itself while the run is active.
    await hasText(page.locator(".subtitle .badge").first(), "completed", 20_000);
    await hasCount(page.locator(".diagram .node.state-visited:not(.kind-end)"), 4); // trigger, wait, 2 conditions
    await hasCount(page.locator(".diagram .edge.taken"), 4);
    await hasCount(page.locator(".timeline > li"), 3);
    await shot("run");
    await page.goto(`${service.url}/runs`);
    await shot("runs");
    await page.goto(`${service.url}/`);
    await containsText(page.locator(".card").first(), "Runs waiting now");
    await shot("overview");
    await page.goto(`${service.url}/catalogue`);
    await containsText(page.locator("table.list").first(), "Import roadblocks");
    await shot("catalogue");
  });

  it("terminates a waiting run", async () => {
    await deliver([oktaEvent({ eventType: "system.import.start", assetId: "0oaBROWSER3" })]);
    const runId = await newestRunId("0oaBROWSER3");
    await page.goto(`${service.url}/runs/${runId}`);
    await eventually(async () => {
      await page.reload();
      await page.getByRole("button", { name: "Terminate run" }).waitFor({ timeout: 500 });
    });
    await page.getByRole("button", { name: "Terminate run" }).click();
    await hasText(page.locator(".subtitle .badge").first(), "terminated");
    expect(dialogs).toEqual(["Terminate this run? It stops where it is."]);
    await page.goto(`${service.url}/assets`);
    await shot("assets");
  });

  it("counts: five denied SMS from one IP start one run that lists them; its failure reopens the window", async () => {
    await page.goto(`${service.url}/workflows/new`);
    await page.getByRole("link", { name: "SMS toll fraud" }).click();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await containsText(page.locator(".diagram .node.kind-trigger"), "≥ 5 within 10 min per client.ipAddress");
    await shot("workflow-count");
    const sms = (minutesAgo: number) =>
      oktaEvent({
        eventType: "system.sms.send_phone_verification_message",
        assetId: "mblBROWSER4",
        result: "DENY",
        ipAddress: "198.51.100.44",
        published: new Date(Date.now() - minutesAgo * 60_000),
      });
    await deliver([9, 8, 7, 6, 5].map(sms));
    const runId = await newestRunId("mblBROWSER4");
    await page.goto(`${service.url}/runs/${runId}`);
    await containsText(page.locator(".counted"), "Started by a count: 5 events with client.ipAddress 198.51.100.44");
    await page.locator(".counted summary").click();
    await hasCount(page.locator(".counted li"), 5);
    // No Slack webhook is configured here, so the alert fails: its suppression window ends
    // with it, and the next burst alerts again instead of being suppressed.
    await eventually(async () => {
      await page.reload();
      await containsText(page.locator(".suppressed"), "the window ended when this run failed", 500);
    });
    await page.locator(".counted summary").click();
    await shot("run-counted");
    await deliver([4, 3, 2, 1, 0].map(sms));
    await eventually(async () => expect(await newestRunId("mblBROWSER4")).not.toBe(runId));
  });

  it("cancel-on: resolving an access request ends its SLA run as cancelled, naming the event", async () => {
    await page.goto(`${service.url}/workflows/new`);
    await page.getByRole("link", { name: "Access request SLA" }).click();
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await containsText(page.locator(".diagram .node.kind-trigger"), "cancelled by");
    await deliver([oktaEvent({ eventType: "access.request.create", assetId: "acrBROWSER5" })]);
    const runId = await newestRunId("acrBROWSER5");
    await page.goto(`${service.url}/runs/${runId}`);
    await eventually(async () => {
      await page.reload();
      await hasText(page.locator(".subtitle .badge").first(), "waiting", 500);
    });
    await deliver([oktaEvent({ eventType: "access.request.resolve", assetId: "acrBROWSER5" })]);
    await eventually(async () => {
      await page.reload();
      await hasText(page.locator(".subtitle .badge").first(), "cancelled", 500);
    });
    await containsText(page.locator(".card.cancelled"), "Cancelled by");
    await shot("run-cancelled");
  });

  it("suppression and counts on the other pages: Run History's badge, the event page, the editor's dry run", async () => {
    const created = await fetch(`${service.url}/api/workflows`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "Once per token a day",
        trigger: { eventTypes: ["system.api_token.create"], filter: { field: "id", op: "eq", value: "00TBROWSER6" } },
        suppress: { key: "{{ trigger.id }}", forSeconds: 86400 },
        start: null,
      }),
    });
    expect(created.status).toBe(201);
    await deliver([oktaEvent({ eventType: "system.api_token.create", assetId: "00TBROWSER6" })]);
    const firstRun = await newestRunId("00TBROWSER6");
    const repeat = oktaEvent({ eventType: "system.api_token.create", assetId: "00TBROWSER6" });
    await deliver([repeat]);
    await eventually(async () => {
      await page.goto(`${service.url}/runs?id=00TBROWSER6`);
      await containsText(page.locator("#live-rows"), "+1 suppressed", 500);
    });
    await shot("runs-suppressed");
    await page.goto(`${service.url}/events/${String(repeat.uuid)}`);
    await containsText(page.locator("main"), "Suppressed");
    await hasCount(page.locator(`main a[href="/runs/${firstRun}"]`), 1);
    await shot("event-suppressed");

    // The toll fraud workflow's dry run on a stored denied SMS: it says whether the event completes a window.
    await page.goto(`${service.url}/workflows`);
    await page.getByRole("link", { name: "SMS toll fraud" }).first().click();
    await page.getByRole("link", { name: "Edit, validate or test" }).click();
    const option = page.locator("select[name=triggerUuid] option", { hasText: "Verification SMS sent" }).first();
    await page.locator("select[name=triggerUuid]").selectOption(await option.getAttribute("value"));
    await page.getByRole("button", { name: "Dry run" }).click();
    await containsText(page.locator(".dry-run-result"), "Threshold key");
    await shot("dry-run-count");
  });

  it("refuses a form posted from another site", async () => {
    const port = await freePort();
    const evil: Server = createServer((_req, res) => {
      res.setHeader("Content-Type", "text/html");
      res.end(
        `<form method="post" action="${service.url}/workflows/${workflowId}/disable"></form><script>document.forms[0].submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(port, "127.0.0.1", resolve));
    try {
      const response = page.waitForResponse((r) => r.url().endsWith("/disable"));
      await page.goto(`http://127.0.0.1:${port}/`);
      expect((await response).status()).toBe(403);
    } finally {
      evil.close();
    }
    await page.goto(`${service.url}/workflows/${workflowId}`);
    await hasText(page.locator(".subtitle .badge").first(), "enabled");
  });

  it("shows a hostile display name as text: no dialog, no element", async () => {
    const hostile = "<img src=x onerror=alert(1)>";
    await deliver([
      oktaEvent({
        eventType: "system.api_token.create",
        target: [{ id: "00THOSTILE1", type: "Token", alternateId: hostile, displayName: hostile }],
      }),
    ]);
    await page.goto(`${service.url}/events?id=00THOSTILE1`);
    await containsText(page.locator("#live-rows"), hostile);
    await page.locator("#live-rows a").first().click();
    await hasText(page.locator("h1"), hostile);
    expect(await page.locator("main img").count()).toBe(0);
    await page.waitForTimeout(300);
    expect(dialogs.filter((message) => message !== "Terminate this run? It stops where it is.")).toEqual([]);
  });

  it("opens an event whose uuid holds ? # and / from its link", async () => {
    const uuid = "evt?x=1#frag/BROWSER";
    await deliver([oktaEvent({ uuid, eventType: "system.import.start", assetId: "0oaBROWSERLINK" })]);
    await page.goto(`${service.url}/events?id=0oaBROWSERLINK`);
    await hasCount(page.locator("#live-rows tr"), 1, 20_000);
    await page.locator("#live-rows a[href^='/events/']").first().click();
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/events/${uuid}`);
    await containsText(page.locator("main"), uuid);
  });

  it("after sign-in, a next that only looks like a path stays on this site", async () => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      // Browsers drop the tab, so Location: /\t/evil.example/ would mean //evil.example/.
      await tab.goto(`${service.url}/login?next=${encodeURIComponent("/\t/evil.example/phish")}`);
      await tab.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await tab.getByRole("button", { name: "Sign in" }).click();
      await tab.waitForURL(`${service.url}/`);
      expect(new URL(tab.url()).origin).toBe(new URL(service.url).origin);
    } finally {
      await context.close();
    }
  });

  it("signs out, and then every page is closed", async () => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(/\/login$/);
    for (const path of [
      "/",
      "/events",
      "/runs",
      "/workflows",
      `/workflows/${workflowId}`,
      "/catalogue",
      "/assets/0oaBROWSER2",
    ]) {
      await page.goto(`${service.url}${path}`);
      expect(new URL(page.url()).pathname, path).toBe("/login");
    }
  });

  it("ends the session on the server: the old cookie, put back after sign-out, opens nothing", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const tab = await signInAs(context);
      const [old] = (await context.cookies()).filter((c) => c.name === "session");
      expect(old).toBeDefined();
      await tab.getByRole("button", { name: "Sign out", exact: true }).click();
      await tab.waitForURL(/\/login$/);
      // A copied cookie (another machine, a backup of the profile) replayed after sign-out.
      await context.addCookies(old ? [old] : []);
      await tab.goto(`${service.url}/events`);
      expect(new URL(tab.url()).pathname).toBe("/login");
      await hasText(tab.getByRole("button", { name: "Sign in" }), "Sign in");
    } finally {
      await context.close();
    }
  });

  it("signs out everywhere: another browser's session ends too", async () => {
    const [mine, theirs] = [await browser.newContext(), await browser.newContext()];
    try {
      const myTab = await signInAs(mine, { width: 1440, height: 900 });
      const theirTab = await signInAs(theirs);
      await myTab.goto(`${service.url}/`);
      await myTab.screenshot({ path: `${SHOTS}/sign-out-everywhere.png` });
      await myTab.getByRole("button", { name: "Sign out everywhere" }).click();
      await myTab.waitForURL(/\/login$/);
      await theirTab.goto(`${service.url}/runs`);
      expect(new URL(theirTab.url()).pathname).toBe("/login");
      await myTab.goto(`${service.url}/`);
      expect(new URL(myTab.url()).pathname).toBe("/login");
    } finally {
      await mine.close();
      await theirs.close();
    }
  });
});

describe("the sign-in page under guessing", () => {
  // Last: locally every request comes from one address, which this leaves blocked for the window.
  it("refuses an address after 10 wrong tokens with a page that says when to try again", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const tab = await context.newPage();
      const statuses: number[] = [];
      tab.on("response", (res) => {
        if (new URL(res.url()).pathname === "/login" && res.request().method() === "POST") statuses.push(res.status());
      });
      for (let i = 0; i < 12; i++) {
        await tab.goto(`${service.url}/login`);
        await tab.getByLabel("Admin token").fill(`guess-${i}`);
        await tab.getByRole("button", { name: "Sign in" }).click();
        await tab.getByRole("alert").waitFor();
      }
      // At most 10 failures per window (the suite's first test spent one of them): 401s, then only 429s.
      const refused = statuses.indexOf(429);
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThanOrEqual(10);
      expect(statuses.slice(0, refused).every((status) => status === 401)).toBe(true);
      expect(statuses.slice(refused).every((status) => status === 429)).toBe(true);
      await hasText(
        tab.getByRole("alert"),
        /^Too many failed sign-ins from your address\. Try again in \d+ minutes?\.$/,
      );
      await tab.screenshot({ path: `${SHOTS}/login-rate-limited.png` });
      // Blocked means blocked: the right token too, until the window ends.
      await tab.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await tab.getByRole("button", { name: "Sign in" }).click();
      await tab.getByRole("alert").waitFor();
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await context.close();
    }
  });
});

/** A new tab in `context`, signed in with the admin token, on the overview. */
async function signInAs(context: BrowserContext, viewport?: { width: number; height: number }): Promise<Page> {
  const tab = await context.newPage();
  if (viewport) await tab.setViewportSize(viewport);
  await tab.goto(`${service.url}/login`);
  await tab.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await tab.getByRole("button", { name: "Sign in" }).click();
  await tab.waitForURL(`${service.url}/`);
  return tab;
}
