/**
 * The simulator's own Cloudflare Queues: producer bindings that capture each body (and
 * its delay) into an in-memory queue, and delivery of due messages to the Worker's
 * queue() handler in MessageBatch objects built here, with Queues' settlement rules:
 * an explicit ack or retry per message, the rest acked if the handler returned and
 * retried if it threw or died; a message retried past max_retries goes to the
 * dead-letter queue wrangler.toml names (okta-events-dlq), whose consumer is the same
 * queue() handler.
 */
import type { SimClock } from "./clock";
import { type FaultBook, InjectedFault } from "./fault-book";
import type { Rng } from "./prng";

export const EVENTS_QUEUE = "okta-events";
export const DLQ_QUEUE = "okta-events-dlq";
/** wrangler.toml: max_retries = 10 on both consumers; the events queue dead-letters to the DLQ. */
const MAX_RETRIES = 10;
const DEAD_LETTER_QUEUE: Record<string, string | undefined> = { [EVENTS_QUEUE]: DLQ_QUEUE };

interface Envelope {
  id: string;
  queue: string;
  body: unknown;
  /** Deliveries so far. */
  attempts: number;
  visibleAt: number;
  seq: number;
}

export type Invoke = (batch: MessageBatch<unknown>) => Promise<{ threw: boolean; died: boolean }>;

export class SimQueues {
  private pending: Envelope[] = [];
  private seq = 0;
  readonly stats = { sent: 0, delivered: 0, batches: 0, deadLettered: 0, droppedFromDlq: 0 };

  constructor(
    private readonly clock: SimClock,
    private readonly book: FaultBook,
    private readonly r: Rng,
  ) {}

  /**
   * A producer binding (env.EVENTS, env.DEAD_LETTERS) for `queue`. The WaitRoom's sends
   * are its own: a consumer dying does not stop them.
   */
  producer(queue: string, sender: "worker" | "waitroom" = "worker"): Queue {
    const accept = (bodies: Array<{ body: unknown; delaySeconds?: number }>) => {
      if (sender === "worker") this.book.checkAlive(`${queue} send`);
      const fate = this.book.send();
      if (fate.fail) throw new InjectedFault(`queue ${queue} unavailable (injected)`);
      if (fate.lose) return;
      for (const { body, delaySeconds } of bodies) {
        const copies = fate.duplicate ? 2 : 1;
        for (let i = 0; i < copies; i++) this.put(queue, body, (delaySeconds ?? 0) * 1000 + fate.delayMs, 0);
      }
    };
    const producer = {
      send: async (body: unknown, options?: QueueSendOptions) =>
        accept([{ body, delaySeconds: options?.delaySeconds }]),
      sendBatch: async (messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) =>
        accept([...messages].map((m) => ({ body: m.body, delaySeconds: m.delaySeconds ?? options?.delaySeconds }))),
      metrics: async () => ({ backlogCount: this.pending.length, backlogBytes: 0 }),
    };
    return producer as unknown as Queue;
  }

  private put(queue: string, body: unknown, delayMs: number, attempts: number, id?: string): void {
    this.seq += 1;
    this.stats.sent += attempts === 0 ? 1 : 0;
    this.pending.push({
      id: id ?? `sim-msg-${this.seq}`,
      queue,
      // Queues serialise bodies: a consumer never shares an object with its producer.
      body: structuredClone(body),
      attempts,
      visibleAt: this.clock.now + Math.max(0, delayMs),
      seq: this.seq,
    });
  }

  get size(): number {
    return this.pending.length;
  }

  /** When the next message becomes visible (absolute ms), if any. */
  nextVisible(): number | undefined {
    return this.pending.length === 0 ? undefined : Math.min(...this.pending.map((e) => e.visibleAt));
  }

  /** Delivers one batch of what is visible now, if anything is; true if it delivered. */
  async deliverOne(invoke: Invoke): Promise<boolean> {
    const now = this.clock.now;
    const visible = this.pending
      .filter((e) => e.visibleAt <= now)
      .sort((a, b) => a.visibleAt - b.visibleAt || a.seq - b.seq);
    const first = visible[0];
    if (!first) return false;
    const size = this.r.chance(0.3) ? this.r.int(1, 20) : 100;
    const chosen = visible.filter((e) => e.queue === first.queue).slice(0, size);
    this.pending = this.pending.filter((e) => !chosen.includes(e));
    await this.run(first.queue, chosen, invoke);
    return true;
  }

  private async run(queue: string, envelopes: Envelope[], invoke: Invoke): Promise<void> {
    const decisions = new Map<string, { ack: true } | { ack: false; delaySeconds: number }>();
    const decide = (id: string, decision: { ack: true } | { ack: false; delaySeconds: number }) => {
      if (!decisions.has(id)) decisions.set(id, decision);
    };
    const messages: Message<unknown>[] = envelopes.map((e) => ({
      id: e.id,
      timestamp: new Date(this.clock.now),
      body: e.body,
      attempts: e.attempts + 1,
      ack: () => decide(e.id, { ack: true }),
      retry: (options?: QueueRetryOptions) => decide(e.id, { ack: false, delaySeconds: options?.delaySeconds ?? 0 }),
    }));
    const batch = {
      queue,
      messages,
      ackAll: () => {
        for (const m of messages) m.ack();
      },
      retryAll: (options?: QueueRetryOptions) => {
        for (const m of messages) m.retry(options);
      },
    } as unknown as MessageBatch<unknown>;
    this.stats.batches += 1;
    this.stats.delivered += envelopes.length;
    const { threw, died } = await invoke(batch);
    for (const e of envelopes) {
      // A dead invocation reports nothing: every message comes back, as after a crash.
      const decision = died ? undefined : decisions.get(e.id);
      const acked = decision ? decision.ack : !threw;
      if (acked) continue;
      const delayMs = decision && !decision.ack ? decision.delaySeconds * 1000 : 0;
      if (e.attempts + 1 > MAX_RETRIES) {
        const dlq = DEAD_LETTER_QUEUE[queue];
        if (dlq) {
          this.stats.deadLettered += 1;
          this.put(dlq, e.body, 0, 0, e.id);
        } else this.stats.droppedFromDlq += 1;
        continue;
      }
      this.pending.push({ ...e, attempts: e.attempts + 1, visibleAt: this.clock.now + delayMs });
    }
  }
}
