/**
 * The outside world: every outbound fetch (the actions' webhooks) is intercepted, as
 * test/workflow-support.ts does, recorded with its Idempotency-Key and the simulated
 * time, and answered by the seed's stand-in: 200, or a hostile answer the plan chose.
 */
import { vi } from "vitest";
import type { SimClock } from "./clock";
import { SIM_HOST } from "./workflows";

export interface OutboundCall {
  workflow: string;
  node: string;
  runId: string;
  assetId: string;
  key: string | null;
  /** Simulated time of the call (the clock ticks once per call, so calls are strictly ordered). */
  at: number;
  /** When the answer went back; null while the call is in flight. */
  answeredAt: number | null;
  /** The HTTP status answered (0 while in flight). */
  status: number;
}

/** What the seed's stand-in does with one call before it answers (hostile answers, slow calls). */
export type Responder = (call: OutboundCall, previous: readonly OutboundCall[]) => Promise<Response | null>;

/** One interceptor per test file; each seed installs its own clock and responder. */
export class Outside {
  calls: OutboundCall[] = [];
  private clock: SimClock | null = null;
  private responder: Responder = async () => null;

  constructor() {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (url.origin !== SIM_HOST || !this.clock) return new Response("not the sim's endpoint", { status: 404 });
      const [, workflow = "", node = ""] = url.pathname.split("/");
      const call: OutboundCall = {
        workflow,
        node,
        runId: url.searchParams.get("run") ?? "",
        assetId: url.searchParams.get("asset") ?? "",
        key: request.headers.get("idempotency-key"),
        at: this.clock.tick(),
        answeredAt: null,
        status: 0,
      };
      const previous = this.calls.filter((c) => c.runId === call.runId && c.node === call.node);
      this.calls.push(call);
      const response = (await this.responder(call, previous)) ?? new Response("ok", { status: 200 });
      call.answeredAt = this.clock.tick();
      call.status = response.status;
      return response;
    });
  }

  reset(clock: SimClock, responder: Responder): void {
    this.calls = [];
    this.clock = clock;
    this.responder = responder;
  }
}
