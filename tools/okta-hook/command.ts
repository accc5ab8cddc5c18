/**
 * `npm run okta:hook -- register|verify|list|deactivate|rotate`: our Event Hook in an
 * Okta org, through Okta's Management API (`/api/v1/eventHooks`). Settings come from the
 * environment (OKTA_ORG_URL, OKTA_API_TOKEN, OKTA_HOOK_URL, OKTA_HOOK_SECRET,
 * OKTA_HOOK_SECRET_PREVIOUS, OKTA_AUTH_HEADER, OKTA_HOOK_NAME); every command prints what
 * it changed, and `--dry-run` changes nothing. Returns the exit code.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { isSystemEventType, SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { fetchOrExplain, NetworkError, parseCli, UsageError } from "../cli/args";
import { OktaApiError, OktaClient } from "../okta-api/client";
import { describeChanges, findOurs, type HookSettings, hookBody, hookTable, OktaHook } from "./plan";

export const HOOK_HELP = `npm run okta:hook -- <command> [--dry-run]

  register [--types a,b] [--no-verify]   create our hook (Okta creates it ACTIVE) or update it (activating
                                         an inactive one), then have Okta verify it
  verify                                 have Okta send its verification GET to our hook
  list                                   the org's event hooks (ours marked *)
  deactivate                             stop Okta delivering to our hook
  rotate begin|switch|finish             change the hook secret in three steps, with no lost delivery

Environment: OKTA_ORG_URL, OKTA_API_TOKEN (an Okta API token), OKTA_HOOK_URL (our public
/hooks/okta URL), OKTA_HOOK_SECRET, OKTA_HOOK_SECRET_PREVIOUS, OKTA_AUTH_HEADER
(default Authorization), OKTA_HOOK_NAME (default okta-event-workflows).

Options: --dry-run (change nothing), --url <hook URL>, --name <hook name>, -h/--help.
Okta accepts only https:// hook URLs; http:// works only against the local stand-in on
a loopback address (127.0.0.1, localhost, [::1]).`;

export type Env = Record<string, string | undefined>;
type Out = (line: string) => void;

const ALL_TYPES = SYSTEM_CATEGORY_EVENT_TYPES.map((type) => type.eventType);

interface Context {
  client: OktaClient;
  settings: HookSettings;
  previous: string;
  dryRun: boolean;
  out: Out;
}

export async function runHookCommand(argv: string[], env: Env, out: Out = console.log): Promise<number> {
  try {
    const { values, positionals } = parseCli(
      argv,
      {
        "dry-run": { type: "boolean", default: false },
        "no-verify": { type: "boolean", default: false },
        types: { type: "string" },
        url: { type: "string" },
        name: { type: "string" },
      },
      { positionals: true },
    );
    const [command, step] = positionals;
    if (values.help || !command) {
      out(HOOK_HELP);
      return values.help === true ? 0 : 2;
    }
    const ctx: Context = {
      client: new OktaClient({
        orgUrl: required(env, "OKTA_ORG_URL"),
        apiToken: required(env, "OKTA_API_TOKEN"),
        onWait: (ms, why) => out(`waiting ${Math.ceil(ms / 1000)} s: ${why}`),
      }),
      settings: {
        name: values.name ?? (env.OKTA_HOOK_NAME || "okta-event-workflows"),
        uri: values.url ?? required(env, "OKTA_HOOK_URL"),
        eventTypes: parseTypes(values.types),
        authHeader: env.OKTA_AUTH_HEADER || "Authorization",
        secret: env.OKTA_HOOK_SECRET ?? "",
      },
      previous: env.OKTA_HOOK_SECRET_PREVIOUS ?? "",
      dryRun: values["dry-run"] === true,
      out,
    };
    if (values["dry-run"]) out("dry run: nothing in Okta changes");
    switch (command) {
      case "register":
        return await register(ctx, !values["no-verify"]);
      case "verify":
        return await verify(ctx, await ours(ctx));
      case "list": {
        const hooks = await listHooks(ctx.client);
        for (const line of hookTable(hooks, findOurs(hooks, ctx.settings))) out(line);
        return 0;
      }
      case "deactivate":
        return await deactivate(ctx);
      case "rotate":
        if (step === "begin") return rotateBegin(ctx);
        if (step === "switch") return await rotateSwitch(ctx);
        if (step === "finish") return await rotateFinish(ctx);
        throw new UsageError("rotate takes a step: begin, switch or finish");
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out(`error: ${err.message}\n\n${HOOK_HELP}`);
      return 2;
    }
    if (err instanceof OktaApiError || err instanceof NetworkError || err instanceof TypeError) {
      out(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Why Okta would refuse this hook URL, or null. Okta takes only https:// hook URLs; the
 * local stand-in also takes http:// on a loopback address, so that one passes.
 */
export function oktaRefuses(uri: string): string | null {
  if (!URL.canParse(uri)) return `${uri} is not a URL`;
  const url = new URL(uri);
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && LOOPBACK.test(url.hostname)) return null;
  return `Okta refuses ${url.protocol}// hook URLs (${uri}): an Event Hook URL must be https://`;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new UsageError(`${name} is not set`);
  return value;
}

function parseTypes(list: string | undefined): string[] {
  if (!list) return ALL_TYPES;
  const types = list
    .split(",")
    .map((type) => type.trim())
    .filter(Boolean);
  const unknown = types.filter((type) => !isSystemEventType(type));
  if (unknown.length > 0) throw new UsageError(`not System Category event types: ${unknown.join(", ")}`);
  return types;
}

async function listHooks(client: OktaClient): Promise<OktaHook[]> {
  return z.array(OktaHook).parse(await client.json("GET", "/api/v1/eventHooks"));
}

async function ours(ctx: Context): Promise<OktaHook> {
  const hook = findOurs(await listHooks(ctx.client), ctx.settings);
  if (!hook)
    throw new UsageError(`no hook named "${ctx.settings.name}" or pointing at ${ctx.settings.uri}; run register`);
  return hook;
}

async function register(ctx: Context, verifyAfter: boolean): Promise<number> {
  if (!ctx.settings.secret) throw new UsageError("OKTA_HOOK_SECRET is not set");
  const refusal = oktaRefuses(ctx.settings.uri);
  if (refusal) {
    ctx.out(`refused: ${refusal}`);
    ctx.out("nothing was sent to Okta; point OKTA_HOOK_URL (or --url) at an https:// URL, e.g. a Cloudflare Tunnel");
    return 1;
  }
  const existing = findOurs(await listHooks(ctx.client), ctx.settings);
  for (const line of describeChanges(existing, ctx.settings)) ctx.out(line);
  if (!existing) ctx.out("Okta creates it ACTIVE");
  else if (existing.status !== "ACTIVE") ctx.out(`activate it (it is ${existing.status})`);
  if (verifyAfter) ctx.out("have Okta verify it");
  if (ctx.dryRun) return 0;
  const body = hookBody(ctx.settings);
  let hook = OktaHook.parse(
    existing
      ? await ctx.client.json("PUT", `/api/v1/eventHooks/${existing.id}`, body)
      : await ctx.client.json("POST", "/api/v1/eventHooks", body),
  );
  ctx.out(`${existing ? "updated" : "created"} ${hook.id}`);
  if (hook.status !== "ACTIVE") {
    hook = OktaHook.parse(await ctx.client.json("POST", `/api/v1/eventHooks/${hook.id}/lifecycle/activate`));
    ctx.out(`activated ${hook.id}`);
  }
  return verifyAfter ? verify(ctx, hook) : 0;
}

async function verify(ctx: Context, hook: OktaHook): Promise<number> {
  if (ctx.dryRun) {
    ctx.out(`would ask Okta to verify ${hook.id} (${hook.channel.config.uri})`);
    return 0;
  }
  try {
    const verified = OktaHook.parse(await ctx.client.json("POST", `/api/v1/eventHooks/${hook.id}/lifecycle/verify`));
    ctx.out(
      `verified ${verified.id}: ${verified.verificationStatus}; Okta delivers to it while it is ${verified.status}`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof OktaApiError)) throw err;
    ctx.out(`verification failed: ${err.message}`);
    ctx.out("check that the Worker is deployed at that URL and has the same secret in OKTA_HOOK_SECRET");
    return 1;
  }
}

async function deactivate(ctx: Context): Promise<number> {
  const hook = await ours(ctx);
  if (hook.status === "INACTIVE") {
    ctx.out(`${hook.id} is already inactive; nothing to change`);
    return 0;
  }
  ctx.out(`deactivate ${hook.id} ("${hook.name}"): Okta stops delivering to ${hook.channel.config.uri}`);
  if (ctx.dryRun) return 0;
  await ctx.client.json("POST", `/api/v1/eventHooks/${hook.id}/lifecycle/deactivate`);
  ctx.out(`deactivated ${hook.id}`);
  return 0;
}

/**
 * A shell reference to `name` that stops the command, saying why, when the variable is
 * unset or empty. The tool reads its secrets from .dev.vars too, so the shell a printed
 * command is pasted into may not have them: a bare "$OKTA_HOOK_SECRET" there is "", and
 * wrangler would store an empty secret. A pipeline runs its right side even when the left
 * side's expansion fails, so `checked` goes in front of the pipeline (`: "${…:?…}" &&`).
 * In `A=x B="$A" cmd` the shell gives B the new x, so an assignment reading a variable
 * comes before the one that sets it.
 */
const shellVar = (name: string, what: string) => `"\${${name}:?set ${name} to ${what} first}"`;
const checked = (name: string, what: string) => `: ${shellVar(name, what)} &&`;

/** Step 3's commands, printed once Okta sends the new secret (and again by a finish that finds the old one accepted). */
export const ROTATE_FINISH_COMMANDS = `  npx wrangler secret delete OKTA_HOOK_SECRET_PREVIOUS      (locally: OKTA_HOOK_SECRET_PREVIOUS="" in .dev.vars, restart)
  OKTA_HOOK_SECRET_PREVIOUS=${shellVar("OKTA_HOOK_SECRET_PREVIOUS", "the old secret")} npm run okta:hook -- rotate finish`;

/** Step 1: a new secret, and the commands that make the Worker accept it beside the current one. Changes nothing in Okta. */
function rotateBegin(ctx: Context): number {
  const current = ctx.settings.secret;
  if (!current) throw new UsageError("OKTA_HOOK_SECRET (the secret Okta sends now) is not set");
  const next = randomBytes(32).toString("base64url");
  const now = "the current secret";
  ctx.out(`Step 1 of 3: make the Worker accept a new secret beside the current one. Nothing in Okta changes yet.

New secret: ${next}

Deployed Worker (in a shell where OKTA_HOOK_SECRET holds the current secret; the commands stop if it does not):
  ${checked("OKTA_HOOK_SECRET", now)} printf '%s' "$OKTA_HOOK_SECRET" | npx wrangler secret put OKTA_HOOK_SECRET_PREVIOUS
  printf '%s' '${next}' | npx wrangler secret put OKTA_HOOK_SECRET
Local (npm run dev): in .dev.vars set
  OKTA_HOOK_SECRET_PREVIOUS="<the current secret>"
  OKTA_HOOK_SECRET="${next}"
and restart npm run dev.

Then step 2 switches Okta to the new secret (locally, .dev.vars supplies both secrets: leave out the two assignments):
  OKTA_HOOK_SECRET_PREVIOUS=${shellVar("OKTA_HOOK_SECRET", now)} OKTA_HOOK_SECRET='${next}' npm run okta:hook -- rotate switch`);
  return 0;
}

/** Step 2: once the Worker accepts the new secret, Okta is switched to it and verifies with it. */
async function rotateSwitch(ctx: Context): Promise<number> {
  if (!ctx.settings.secret || !ctx.previous) {
    throw new UsageError("set OKTA_HOOK_SECRET to the new secret and OKTA_HOOK_SECRET_PREVIOUS to the old one");
  }
  const accepted = await workerAccepts(ctx.settings, ctx.settings.secret);
  if (!accepted.ok) {
    ctx.out(`The Worker at ${ctx.settings.uri} does not accept the new secret yet (${accepted.detail}).`);
    ctx.out("Finish step 1 first (wrangler secret put / .dev.vars), then run this again. Okta was not changed.");
    return 1;
  }
  const hook = await ours(ctx);
  ctx.out(`Step 2 of 3: the Worker accepts the new secret; switch ${hook.id} in Okta to it and verify.`);
  if (ctx.dryRun) return 0;
  await ctx.client.json(
    "PUT",
    `/api/v1/eventHooks/${hook.id}`,
    hookBody({
      ...ctx.settings,
      name: hook.name,
      uri: hook.channel.config.uri,
      eventTypes: hook.events.items,
      authHeader: hook.channel.config.authScheme?.key ?? ctx.settings.authHeader,
    }),
  );
  ctx.out(`replaced the secret of ${hook.id}`);
  const code = await verify(ctx, hook);
  if (code !== 0) return code;
  ctx.out(`Okta now sends the new secret. Step 3 drops the old one:\n${ROTATE_FINISH_COMMANDS}`);
  return 0;
}

/** Step 3: checks the Worker refuses the old secret now. */
async function rotateFinish(ctx: Context): Promise<number> {
  if (!ctx.previous) throw new UsageError("set OKTA_HOOK_SECRET_PREVIOUS to the old secret, to check it is refused");
  const old = await workerAccepts(ctx.settings, ctx.previous);
  if (old.ok) {
    ctx.out(`Step 3 of 3: the Worker at ${ctx.settings.uri} still accepts the old secret. Drop it:
  npx wrangler secret delete OKTA_HOOK_SECRET_PREVIOUS      (locally: OKTA_HOOK_SECRET_PREVIOUS="" in .dev.vars, restart)
then run this again.`);
    return 1;
  }
  ctx.out(`Step 3 of 3: done. The Worker refuses the old secret (${old.detail}); rotation is complete.`);
  return 0;
}

/** Sends the hook's verification GET, as Okta would, with this secret. */
async function workerAccepts(settings: HookSettings, secret: string): Promise<{ ok: boolean; detail: string }> {
  const challenge = randomBytes(16).toString("base64url");
  const res = await fetchOrExplain(settings.uri, {
    headers: { [settings.authHeader]: secret, "X-Okta-Verification-Challenge": challenge, Accept: "application/json" },
  });
  const body: unknown = await res.json().catch(() => null);
  const ok = res.status === 200 && typeof body === "object" && body !== null && "verification" in body;
  return { ok: ok && body.verification === challenge, detail: `answered ${res.status}` };
}
