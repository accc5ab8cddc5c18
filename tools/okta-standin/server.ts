/** Starts the Okta stand-in on a port of 127.0.0.1 (Node, via @hono/node-server). Used by its command and by the tests. */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createStandinApp, type StandinOptions, type StandinOrg } from "./app";

export interface RunningStandin {
  url: string;
  apiToken: string;
  org: StandinOrg;
  close(): Promise<void>;
}

export async function startStandin(
  options: Omit<StandinOptions, "orgUrl"> & { port?: number },
): Promise<RunningStandin> {
  // The org URL is known once the port is: a holder the app reads lazily.
  const holder = { url: "" };
  const { app, org } = createStandinApp({
    ...options,
    get orgUrl() {
      return holder.url;
    },
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" }, () => resolve(started));
    // A port in use is the likely failure: say which, instead of an unhandled 'error' event.
    started.once("error", (err) =>
      reject(new Error(`cannot listen on 127.0.0.1:${options.port ?? 0}: ${err.message}`)),
    );
  });
  holder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: holder.url,
    apiToken: options.apiToken,
    org,
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
