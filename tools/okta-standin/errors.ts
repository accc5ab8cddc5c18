/**
 * Okta's error body, as the Management API sends it on every 4xx/5xx:
 * `{errorCode, errorSummary, errorLink, errorId, errorCauses}`. errorLink repeats the code;
 * errorId is a per-request id. The codes here are the ones the stand-in answers with.
 */
import { randomBytes } from "node:crypto";

export interface OktaErrorBody {
  errorCode: string;
  errorSummary: string;
  errorLink: string;
  errorId: string;
  errorCauses: { errorSummary: string }[];
}

export function oktaErrorBody(errorCode: string, errorSummary: string, causes: string[] = []): OktaErrorBody {
  return {
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId: `oae${randomBytes(12).toString("base64url")}`,
    errorCauses: causes.map((errorSummary) => ({ errorSummary })),
  };
}

/** The errors Okta documents for the endpoints the stand-in serves. */
export const OKTA_ERRORS = {
  validation: (what: string, causes: string[]) => ({
    status: 400,
    body: oktaErrorBody("E0000001", `Api validation failed: ${what}`, causes),
  }),
  invalidToken: () => ({ status: 401, body: oktaErrorBody("E0000011", "Invalid token provided") }),
  notFound: (id: string, type: string) => ({
    status: 404,
    body: oktaErrorBody("E0000007", `Not found: Resource not found: ${id} (${type})`),
  }),
  invalidSearch: (cause: string) => ({
    status: 400,
    body: oktaErrorBody("E0000031", "Invalid search criteria.", [cause]),
  }),
  badRequest: (cause: string) => ({
    status: 400,
    body: oktaErrorBody("E0000003", "The request body was not well-formed.", [cause]),
  }),
  /** Okta's answer when it is having a bad moment (E0000009); a 502/503 from its edge looks the same to a client. */
  internal: (status = 500) => ({
    status,
    body: oktaErrorBody("E0000009", "Internal Server Error"),
  }),
  rateLimited: () => ({
    status: 429,
    body: oktaErrorBody("E0000047", "API call exceeded rate limit due to too many requests."),
  }),
} as const;
