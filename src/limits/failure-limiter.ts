/**
 * FailureLimiter: one Durable Object per (scope, client address) (client-key.ts),
 * counting that address's failed credentials in a fixed window (failure-window.ts).
 * SQLite storage holds the one open window; an alarm at its end deletes it, so an
 * address that stops failing leaves nothing behind.
 */
import { DurableObject } from "cloudflare:workers";
import { countFailure, FAILURE_WINDOW_MS, type FailureWindow, type Limit, limitAt } from "./failure-window";

type WindowRow = { started_at: number; failures: number };

export class FailureLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS failure_window (id INTEGER PRIMARY KEY CHECK (id = 1), started_at INTEGER NOT NULL, failures INTEGER NOT NULL)",
    );
  }

  private window(): FailureWindow | null {
    const row = this.sql.exec<WindowRow>("SELECT started_at, failures FROM failure_window").toArray()[0];
    return row ? { startedAt: row.started_at, failures: row.failures } : null;
  }

  /** Whether this address is refused now. Counts nothing; safe to call on every attempt. */
  async check(): Promise<Limit> {
    return limitAt(this.window(), Date.now());
  }

  /**
   * Records one failed attempt and says whether it arrived while the address was
   * already refused (then it is not counted: the window ends when it ends).
   */
  async recordFailure(): Promise<Limit> {
    const now = Date.now();
    const before = this.window();
    const limit = limitAt(before, now);
    if (limit.blocked) return limit;
    const after = countFailure(before, now);
    this.sql.exec(
      "INSERT OR REPLACE INTO failure_window (id, started_at, failures) VALUES (1, ?, ?)",
      after.startedAt,
      after.failures,
    );
    // A new window: its alarm deletes it when it ends.
    if (after.failures === 1) await this.ctx.storage.setAlarm(after.startedAt + FAILURE_WINDOW_MS);
    return limit;
  }

  /** The window is over: forget it. A failure after the end starts a new one. */
  override async alarm(): Promise<void> {
    const window = this.window();
    if (window && Date.now() < window.startedAt + FAILURE_WINDOW_MS) {
      await this.ctx.storage.setAlarm(window.startedAt + FAILURE_WINDOW_MS);
      return;
    }
    this.sql.exec("DELETE FROM failure_window");
  }
}
