/** The crash test's outside world: an HTTP server that records every action call with its Idempotency-Key. */
import { createServer } from "node:http";
import type { ActionCall } from "./verdict";

export interface ActionReceiver {
  url: string;
  calls(): readonly ActionCall[];
  /** Calls `listener` after each recorded call (one listener; undefined removes it). */
  onCall(listener: (() => void) | undefined): void;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` and answers every request 200 at once. */
export async function startActionReceiver(port: number): Promise<ActionReceiver> {
  const calls: ActionCall[] = [];
  let listener: (() => void) | undefined;
  const server = createServer((req, res) => {
    const key = req.headers["idempotency-key"];
    calls.push({ path: req.url ?? "/", key: typeof key === "string" ? key : null, at: Date.now() });
    listener?.();
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    onCall: (next) => {
      listener = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
