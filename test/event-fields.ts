/** A builder for Event Fields in pure tests: an API token creation unless overridden. */
import type { EventFields } from "../src/okta/event-fields";

export function eventFields(overrides: Partial<EventFields> = {}): EventFields {
  return {
    id: "00Tabc123",
    type: "Token",
    alternateId: null,
    displayName: "ci-token",
    eventType: "system.api_token.create",
    eventResult: "SUCCESS",
    eventDate: "2026-11-20T10:00:00.000Z",
    eventTimestamp: "2026-11-20T10:00:01.000Z",
    ...overrides,
  };
}
