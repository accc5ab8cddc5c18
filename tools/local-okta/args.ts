/**
 * Command-line parsing for `npm run okta`: argv in, a Command out. Pure: no files,
 * no network, no environment (defaults that need I/O are filled in by cli.ts).
 */
import { isIP } from "node:net";
import { isSystemEventType, SYSTEM_CATEGORY_EVENT_TYPES } from "../../src/okta/event-types";
import { intOption, parseCli, UsageError } from "../cli/args";

export { UsageError };

/** The hook's path on the local service; the base URL follows PORT (see ../local-url.ts). */
export const HOOK_PATH = "/hooks/okta";

export const HELP = `Local Okta: sends Okta Event Hook requests to the service, like Okta does.

Usage: npm run okta -- <command> [options]

Commands:
  send <type>...    POST one delivery with one event per type (also: just list the types)
  repeat            POST the previous delivery again: same body, same eventId and uuids
  verify            GET with x-okta-verification-challenge, as Okta's "Verify" button does
  types             list the 13 System Category event types

Options:
  --asset <id>      ID of the asset (primary target) of every event; default per type
  --name <text>     display name of that asset (default per type; a token sent with
                    --asset is named api-token-<id>)
  --count <n>       events of each type in the delivery (default 1)
  --outcome <r>     outcome.result of every event, e.g. DENY (default SUCCESS; --result is the same)
  --ip <address>    client.ipAddress of every event (default 203.0.113.10)
  --actor <id>      the actor of every event: its id, and alternateId <id>@example.com
                    (or <id> itself when it has an @)
  --url <url>       hook URL (default http://127.0.0.1:$PORT${HOOK_PATH}; PORT as for npm run dev, else 8787)
  --secret <s>      hook secret (default OKTA_HOOK_SECRET from .dev.vars, else local-okta-hook-secret)
  --header <name>   header carrying the secret (default OKTA_AUTH_HEADER from .dev.vars, else Authorization)
  --print           also print the request body
  -h, --help        this text

Examples:
  npm run okta -- send system.import.start
  npm run okta -- send system.api_token.create --asset 00Tabc123 --count 3
  npm run okta -- send system.api_token.create --asset 00Ttmp1 --name tmp-build
  npm run okta -- send system.import.start system.import.complete --outcome FAILURE
  npm run okta -- send system.sms.send_phone_verification_message --count 5 --outcome DENY --ip 198.51.100.7
  npm run okta -- send system.api_token.create --actor 00uadmin2
  npm run okta -- repeat
  npm run okta -- verify`;

/** Connection options every network command shares; undefined means "use the default". */
export interface Target {
  url?: string;
  secret?: string;
  header?: string;
}

export type Command =
  | { kind: "help" }
  | { kind: "types" }
  | { kind: "verify"; target: Target }
  | { kind: "repeat"; target: Target; print: boolean }
  | {
      kind: "send";
      target: Target;
      print: boolean;
      /** One entry per event, in delivery order. */
      eventTypes: string[];
      assetId?: string;
      displayName?: string;
      result?: string;
      ipAddress?: string;
      actorId?: string;
      /** Types that are not in the System Category (sent anyway; Okta sends others too). */
      unknownTypes: string[];
    };

const COMMANDS = new Set(["send", "repeat", "verify", "types", "help"]);

/** Parses `npm run okta -- …` arguments; throws UsageError with a message for the user. */
export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parse(argv);
  if (values.help) return { kind: "help" };

  // `npm run okta -- system.import.start` is short for `send system.import.start`.
  const [first, ...rest] = positionals;
  const name = first === undefined ? "help" : COMMANDS.has(first) ? first : "send";
  const args = first !== undefined && COMMANDS.has(first) ? rest : positionals;
  const target: Target = { url: values.url, secret: values.secret, header: values.header };
  const print = values.print ?? false;
  if (values.url !== undefined && !URL.canParse(values.url)) throw new UsageError(`--url is not a URL: ${values.url}`);

  if (name !== "send") {
    if (args.length > 0) throw new UsageError(`${name} takes no arguments (got ${args.join(" ")})`);
    const sendOnly = (["asset", "name", "count", "result", "outcome", "ip", "actor"] as const).filter(
      (key) => values[key] !== undefined,
    );
    if (sendOnly.length > 0) throw new UsageError(`--${sendOnly[0]} only applies to send`);
  }
  switch (name) {
    case "help":
      return { kind: "help" };
    case "types":
      return { kind: "types" };
    case "verify":
      return { kind: "verify", target };
    case "repeat":
      return { kind: "repeat", target, print };
  }

  if (args.length === 0) throw new UsageError(`send needs at least one event type; see: npm run okta -- types`);
  const count = intOption(values.count, "count", 1, { min: 1, max: 1000 });
  const eventTypes = args.flatMap((type) => Array.from({ length: count }, () => type));
  if (values.result !== undefined && values.outcome !== undefined) {
    throw new UsageError("--outcome and --result are the same option; give one");
  }
  const outcome = values.outcome ?? values.result;
  if (outcome !== undefined && !/^[A-Za-z_]{1,40}$/.test(outcome)) {
    throw new UsageError(`--outcome is a word such as SUCCESS, FAILURE or DENY (got ${JSON.stringify(outcome)})`);
  }
  if (values.ip !== undefined && isIP(values.ip) === 0) throw new UsageError(`--ip is not an IP address: ${values.ip}`);
  if (values.actor !== undefined && !/^\S{1,200}$/.test(values.actor)) {
    throw new UsageError("--actor is an id without spaces, e.g. 00uadmin2");
  }
  return {
    kind: "send",
    target,
    print,
    eventTypes,
    assetId: values.asset,
    displayName: values.name,
    result: outcome?.toUpperCase(),
    ipAddress: values.ip,
    actorId: values.actor,
    unknownTypes: args.filter((type) => !isSystemEventType(type)),
  };
}

function parse(argv: string[]) {
  return parseCli(
    argv,
    {
      asset: { type: "string" },
      name: { type: "string" },
      count: { type: "string" },
      result: { type: "string" },
      outcome: { type: "string" },
      ip: { type: "string" },
      actor: { type: "string" },
      url: { type: "string" },
      secret: { type: "string" },
      header: { type: "string" },
      print: { type: "boolean" },
    },
    { positionals: true },
  );
}

/** The `types` listing: one type per line, with Okta's display name. */
export function typesListing(): string {
  const width = Math.max(...SYSTEM_CATEGORY_EVENT_TYPES.map((t) => t.eventType.length));
  return SYSTEM_CATEGORY_EVENT_TYPES.map((t) => `${t.eventType.padEnd(width)}  ${t.displayName}`).join("\n");
}
