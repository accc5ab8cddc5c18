/**
 * `npm run okta -- <command>`: a local stand-in for Okta. Sends realistic Event Hook
 * deliveries (built by builders.ts) and the verification GET to the service, with the
 * secret in the configured header, and prints the status and a one-line summary.
 * Argument parsing lives in args.ts; this file does the I/O.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchOrExplain, runCli } from "../cli/args";
import { readDevVars } from "../dev-vars";
import { localBaseUrl } from "../local-url";
import { type Command, HELP, HOOK_PATH, parseCommand, type Target, typesListing, UsageError } from "./args";
import { actorNamed, oktaDelivery, oktaEvent, oktaHeaders, senderDisplayName } from "./builders";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The previous delivery, for `repeat`. Under .wrangler/, which is gitignored. */
const LAST_FILE = `${ROOT}.wrangler/local-okta-last.json`;

interface LastDelivery {
  url: string;
  header: string;
  summary: string;
  body: string;
}

interface Resolved {
  url: string;
  secret: string;
  header: string;
}

async function resolveTarget(target: Target, fallback?: { url: string; header: string }): Promise<Resolved> {
  const vars = await readDevVars();
  return {
    url: target.url ?? fallback?.url ?? new URL(HOOK_PATH, localBaseUrl(process.env.PORT)).href,
    secret: target.secret ?? (vars.OKTA_HOOK_SECRET || "local-okta-hook-secret"),
    header: target.header ?? fallback?.header ?? (vars.OKTA_AUTH_HEADER || "Authorization"),
  };
}

async function post(to: Resolved, body: string, summary: string, print: boolean): Promise<boolean> {
  if (print) console.log(JSON.stringify(JSON.parse(body), null, 2));
  const started = performance.now();
  const res = await fetchOrExplain(to.url, { method: "POST", headers: oktaHeaders(to.secret, to.header), body });
  const ms = Math.round(performance.now() - started);
  console.log(`${res.status} ${res.statusText} (${ms} ms)  POST ${to.url}  ${summary}`);
  const text = await res.text();
  if (text) console.log(text);
  return res.ok;
}

async function send(command: Extract<Command, { kind: "send" }>): Promise<boolean> {
  for (const type of command.unknownTypes) {
    console.warn(`note: ${type} is not a System Category event type (sent anyway; see: npm run okta -- types)`);
  }
  const events = command.eventTypes.map((eventType) =>
    oktaEvent({
      eventType,
      assetId: command.assetId,
      displayName: senderDisplayName(eventType, command.assetId, command.displayName),
      result: command.result,
      ipAddress: command.ipAddress,
      ...(command.actorId ? { actor: actorNamed(command.actorId) } : {}),
    }),
  );
  const delivery = oktaDelivery(events);
  const body = JSON.stringify(delivery);
  const summary = `delivery ${String(delivery.eventId)}: ${describeEvents(command.eventTypes)}${
    command.assetId ? `, asset ${command.assetId}` : ""
  }${command.displayName ? ` "${command.displayName}"` : ""}${command.result ? `, outcome ${command.result}` : ""}${
    command.ipAddress ? `, ip ${command.ipAddress}` : ""
  }${command.actorId ? `, actor ${command.actorId}` : ""}`;
  const to = await resolveTarget(command.target);
  const last: LastDelivery = { url: to.url, header: to.header, summary, body };
  await mkdir(dirname(LAST_FILE), { recursive: true });
  await writeFile(LAST_FILE, `${JSON.stringify(last, null, 2)}\n`);
  return post(to, body, summary, command.print);
}

async function repeat(command: Extract<Command, { kind: "repeat" }>): Promise<boolean> {
  const text = await readFile(LAST_FILE, "utf8").catch(() => {
    throw new UsageError(`nothing to repeat yet (${LAST_FILE} is missing); send a delivery first`);
  });
  const last = JSON.parse(text) as LastDelivery;
  const to = await resolveTarget(command.target, last);
  return post(to, last.body, `repeat of ${last.summary}`, command.print);
}

async function verify(command: Extract<Command, { kind: "verify" }>): Promise<boolean> {
  const to = await resolveTarget(command.target);
  // Shaped like Okta's challenges: 40 characters of [A-Za-z0-9_-].
  const challenge = randomBytes(30).toString("base64url");
  const { "content-type": _, ...headers } = oktaHeaders(to.secret, to.header);
  const res = await fetchOrExplain(to.url, {
    headers: { ...headers, "user-agent": "Okta-Integrations", "x-okta-verification-challenge": challenge },
  });
  const text = await res.text();
  let echoed: unknown;
  try {
    echoed = (JSON.parse(text) as { verification?: unknown }).verification;
  } catch {
    echoed = undefined;
  }
  const verdict = res.ok && echoed === challenge ? "verified: challenge echoed" : "NOT verified";
  console.log(`${res.status} ${res.statusText}  GET ${to.url}  ${verdict}`);
  if (echoed !== challenge) console.log(text);
  return res.ok && echoed === challenge;
}

/** "system.import.start x2, system.import.complete" */
function describeEvents(types: string[]): string {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  const parts = [...counts].map(([type, n]) => (n > 1 ? `${type} x${n}` : type));
  return `${types.length} event${types.length === 1 ? "" : "s"} (${parts.join(", ")})`;
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case "help":
      console.log(HELP);
      return 0;
    case "types":
      console.log(typesListing());
      return 0;
    case "send":
      return (await send(command)) ? 0 : 1;
    case "repeat":
      return (await repeat(command)) ? 0 : 1;
    case "verify":
      return (await verify(command)) ? 0 : 1;
  }
}

runCli(HELP, main);
