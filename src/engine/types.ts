import type { Db } from "../db/client";

export type AdvanceResult =
  | { kind: "settled" }
  /** Try again later: the run is leased by another consumer, or an action asked to be retried. */
  | { kind: "retry"; delaySeconds: number };

export interface EngineDeps {
  db: Db;
  env: Env;
  now: () => Date;
}
