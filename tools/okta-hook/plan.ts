/**
 * What `npm run okta:hook` asks of Okta, decided from plain data: the hook we want, which
 * of the org's hooks is ours, and what a register would change. Pure.
 */
import { z } from "zod";

/** An event hook as Okta's API returns it, as far as the tools read it. */
export const OktaHook = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(["ACTIVE", "INACTIVE"]),
  verificationStatus: z.string(),
  events: z.object({ items: z.array(z.string()) }),
  channel: z.object({
    config: z.object({
      uri: z.string(),
      headers: z.array(z.object({ key: z.string(), value: z.string() })).nullish(),
      authScheme: z.object({ key: z.string() }).nullish(),
    }),
  }),
});
export type OktaHook = z.infer<typeof OktaHook>;

export interface HookSettings {
  name: string;
  uri: string;
  eventTypes: string[];
  authHeader: string;
  secret: string;
}

/** The body of a create or replace: our URI, types, and the secret in the auth header. */
export function hookBody(settings: HookSettings) {
  return {
    name: settings.name,
    events: { type: "EVENT_TYPE", items: settings.eventTypes },
    channel: {
      type: "HTTP",
      version: "1.0.0",
      config: {
        uri: settings.uri,
        headers: [],
        authScheme: { type: "HEADER", key: settings.authHeader, value: settings.secret },
      },
    },
  };
}

/** Ours is the hook with our name; failing that, the one that already points at our URI. */
export function findOurs(hooks: readonly OktaHook[], settings: Pick<HookSettings, "name" | "uri">): OktaHook | null {
  return (
    hooks.find((hook) => hook.name === settings.name) ??
    hooks.find((hook) => hook.channel.config.uri === settings.uri) ??
    null
  );
}

/** What replacing `existing` with `settings` changes, one line each. The secret is write-only in Okta, so it is always set. */
export function describeChanges(existing: OktaHook | null, settings: HookSettings): string[] {
  if (!existing) {
    return [
      `create hook "${settings.name}" → ${settings.uri}`,
      `  events: ${settings.eventTypes.length} types (${settings.eventTypes.join(", ")})`,
      `  auth header: ${settings.authHeader} (secret set)`,
    ];
  }
  const lines: string[] = [];
  const before = new Set(existing.events.items);
  const after = new Set(settings.eventTypes);
  if (existing.name !== settings.name) lines.push(`  name: "${existing.name}" → "${settings.name}"`);
  if (existing.channel.config.uri !== settings.uri) {
    lines.push(`  uri: ${existing.channel.config.uri} → ${settings.uri}`);
  }
  for (const type of settings.eventTypes) if (!before.has(type)) lines.push(`  + event ${type}`);
  for (const type of existing.events.items) if (!after.has(type)) lines.push(`  - event ${type}`);
  const header = existing.channel.config.authScheme?.key ?? "(none)";
  if (header !== settings.authHeader) lines.push(`  auth header: ${header} → ${settings.authHeader}`);
  lines.push("  secret: set again (Okta never returns it, so it cannot be compared)");
  return [`update hook "${existing.name}" (${existing.id})`, ...lines];
}

/** The table `list` prints. */
export function hookTable(hooks: readonly OktaHook[], ours: OktaHook | null): string[] {
  if (hooks.length === 0) return ["(the org has no event hooks)"];
  return hooks.map(
    (hook) =>
      `${hook.id === ours?.id ? "*" : " "} ${hook.id}  ${hook.status.padEnd(8)} ${hook.verificationStatus.padEnd(10)} ${
        hook.events.items.length
      } types  ${hook.name} → ${hook.channel.config.uri}`,
  );
}
