/**
 * Okta's side of the crash test: one event per delivery, each delivery's outcome
 * recorded (200 = accepted), and Okta's one retry of a delivery that was not accepted.
 */
import { oktaDelivery, oktaEvent, oktaHeaders } from "../local-okta/builders";

export interface SentEvent {
  uuid: string;
  eventType: string;
  assetId: string;
}

export interface Delivery {
  body: string;
  event: SentEvent;
  /** Attempts made (Okta makes at most two: the delivery and one retry). */
  attempts: number;
  /** The last attempt's HTTP status, or the connection error. */
  outcome: number | string | null;
  accepted: boolean;
}

export function delivery(eventType: string, assetId: string): Delivery {
  const event = oktaEvent({ eventType, assetId });
  const uuid = String(event.uuid);
  return {
    body: JSON.stringify(oktaDelivery([event])),
    event: { uuid, eventType, assetId },
    attempts: 0,
    outcome: null,
    accepted: false,
  };
}

/** One POST of `d` to the hook; records the outcome. */
export async function send(url: string, secret: string, d: Delivery): Promise<void> {
  d.attempts++;
  try {
    const res = await fetch(`${url}/hooks/okta`, {
      method: "POST",
      headers: oktaHeaders(secret),
      body: d.body,
      // Okta gives a hook 3 s.
      signal: AbortSignal.timeout(3_000),
    });
    await res.arrayBuffer();
    d.outcome = res.status;
    d.accepted = res.status === 200;
  } catch (err) {
    d.outcome = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  }
}

/**
 * Sends `list` with `concurrency` in flight. `onAccepted` runs after each 200; once
 * `halted` returns true no further delivery is handed out (those stay unattempted).
 */
export async function sendAll(
  url: string,
  secret: string,
  list: readonly Delivery[],
  concurrency: number,
  { onAccepted, halted }: { onAccepted?: () => void; halted?: () => boolean } = {},
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!halted?.() && next < list.length) {
        const d = list[next++] as Delivery;
        await send(url, secret, d);
        if (d.accepted) onAccepted?.();
      }
    }),
  );
}
