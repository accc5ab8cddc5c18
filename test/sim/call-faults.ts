/**
 * The faults that act from inside an outbound call: the outside world's hostile answers,
 * a call that hangs past its lease while a second consumer takes the run (finding 8), a
 * terminate through the API while calls are queued behind others (finding 7), and a call
 * that hangs while the rest of its round answers, after which its consumer dies (finding 9).
 */
import type { SimClock } from "./clock";
import type { RunView } from "./engine-view";
import type { FaultBook } from "./fault-book";
import type { OutboundCall, Outside, Responder } from "./outside";
import type { Schedule } from "./schedule";

export interface CallFaultDeps {
  schedule: Schedule;
  book: FaultBook;
  outside: Outside;
  /** Work begun beside the current consumer invocation; the invocation ends only after it. */
  background: Promise<void>[];
  /** The cron and the queue for 20 simulated minutes, as a second consumer would see them. */
  secondConsumer: () => Promise<void>;
  inSecondConsumer: () => boolean;
  runs: () => Promise<RunView[]>;
  clock: SimClock;
  terminate: (runId: string) => Promise<void>;
}

interface Gate {
  opened: Promise<void>;
  open: () => void;
}

function gate(): Gate {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function callFaults(deps: CallFaultDeps): Responder {
  const { schedule, book } = deps;
  const hostile = schedule.faults.find((f) => f.kind === "hostile-retry-after");
  let hostileKey: string | null = null;

  /**
   * Finding 8's interleaving, for real: the first call of a `two` run hangs past its lease
   * while the cron hands the run to a second consumer; that consumer is held inside its
   * `second` call while the first consumer gets its answer and carries on. A fenced engine
   * stops the first consumer before it calls again; an unfenced one calls `second` beside
   * the new holder (invariant 4: two calls of one key at once, within a lease).
   */
  let slow: { runId: string; inside: Gate; release: Gate } | null = null;
  const slowAction = async (call: OutboundCall): Promise<void> => {
    if (!slow && call.node === "first" && !deps.inSecondConsumer()) {
      book.record("slow-action");
      const state = { runId: call.runId, inside: gate(), release: gate() };
      slow = state;
      deps.background.push(deps.secondConsumer().finally(() => state.inside.open()));
      await state.inside.opened;
      return;
    }
    if (!slow || call.runId !== slow.runId || call.node !== "second") return;
    if (deps.inSecondConsumer()) {
      // The new holder, inside `second`: let the first consumer go on, and wait (bounded) for it.
      slow.inside.open();
      await Promise.race([slow.release.opened, sleep(200)]);
      return;
    }
    slow.release.open();
  };

  /** The burst's calls hold their slots until the terminate is done, so its last runs stay queued. */
  let terminating: Gate | null = null;
  const terminateQueued = async (): Promise<void> => {
    if (terminating) return terminating.opened;
    terminating = gate();
    await sleep(20);
    const runs = await deps.runs();
    const called = new Set(deps.outside.calls.map((c) => c.runId));
    const victim = runs.findLast((r) => r.assetId?.includes("-b") && r.status === "running" && !called.has(r.id));
    if (victim) {
      book.record("terminate-queued");
      await deps.terminate(victim.id);
    }
    terminating.open();
  };

  /**
   * Finding 9: the first call of a burst hangs until the rest of its consumer has gone quiet
   * (every other call answered, no D1 or WaitRoom call in flight for a while), then a minute
   * passes and the consumer dies. An engine that commits each outcome as it returns has
   * recorded the others; one that holds them for the round repeats every answered call.
   */
  let hung = false;
  const hangDeath = async (call: OutboundCall): Promise<void> => {
    if (hung || deps.inSecondConsumer() || !book.invoking) return;
    hung = true;
    book.record("hang-death");
    let quiet = 0;
    for (let i = 0; i < 200 && quiet < 6; i++) {
      await sleep(50);
      const busy = book.inFlight > 0 || deps.outside.calls.some((c) => c !== call && c.answeredAt === null);
      quiet = busy ? 0 : quiet + 1;
    }
    deps.clock.set(deps.clock.now + 60_000);
    book.kill();
  };

  return async (call, previous) => {
    if (hostile?.kind === "hostile-retry-after" && call.workflow === hostile.workflow && previous.length === 0) {
      hostileKey ??= call.key;
      if (hostileKey === call.key) {
        book.record("hostile-retry-after");
        return new Response("slow down", { status: 429, headers: { "retry-after": hostile.value } });
      }
    }
    if (book.has("slow-action") && call.workflow === "two") await slowAction(call);
    if (book.has("terminate-queued") && call.workflow === "one" && call.assetId.includes("-b")) await terminateQueued();
    if (book.has("hang-death") && call.workflow === "one" && call.assetId.includes("-b")) await hangDeath(call);
    return null;
  };
}
