/**
 * Group commit: many runs' pipelines write at once, each as soon as it has something
 * to record, and locally and in D1 the cost is the number of round trips. So one D1
 * batch is in flight at a time, and the writes that arrive meanwhile go together in
 * the next. A batch is one transaction: if it fails, each caller's writes are committed
 * on their own, so one run's bad write never fails another's.
 */
import { runWrites, type Write } from "../db/compiled";

/** A D1 (or local storage) failure: the run's message is retried; nothing about the run itself is wrong. */
export class StoreError extends Error {
  constructor(cause: unknown) {
    super(`D1 write failed: ${String(cause)}`, { cause });
    this.name = "StoreError";
  }
}

interface Pending {
  items: Write[];
  resolve: (results: unknown[][]) => void;
  reject: (err: StoreError) => void;
}

export class GroupCommit {
  private queued: Pending[] = [];
  private flushing = false;
  /** D1 batches sent, for the batch's log line. */
  batches = 0;

  constructor(private readonly d1: D1Database) {}

  /** Commits `items` (in order, in one transaction) with whatever else is waiting; resolves to each one's rows. */
  commit(items: Write[]): Promise<unknown[][]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queued.push({ items, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    // Let the current turn finish first: a call that just returned ends its run and frees
    // a slot whose next run claims, in the same turn, and both go in one batch.
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      while (this.queued.length > 0) {
        const group = this.queued.splice(0);
        await this.send(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(group: Pending[]): Promise<void> {
    this.batches += 1;
    try {
      const results = await runWrites(
        this.d1,
        group.flatMap((p) => p.items),
      );
      let at = 0;
      for (const pending of group) {
        pending.resolve(results.slice(at, at + pending.items.length));
        at += pending.items.length;
      }
      return;
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(new StoreError(err));
        return;
      }
    }
    // One caller's write may be what failed the transaction: each on its own.
    for (const pending of group) {
      this.batches += 1;
      try {
        pending.resolve(await runWrites(this.d1, pending.items));
      } catch (err) {
        pending.reject(new StoreError(err));
      }
    }
  }
}
