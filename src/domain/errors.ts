// Errors are values with the contract's code; raised in the domain and mapped once at the edge.

/** The error codes a client may see in `extensions.code`. */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "UNKNOWN_POLICY"
  | "UNKNOWN_POLICY_VERSION"
  | "UNKNOWN_PURPOSE"
  | "REQUIRED_PURPOSE"
  | "POLICY_NOT_ACCEPTED"
  | "SUBJECT_INACTIVE"
  | "VERSION_CONFLICT"
  | "IDEMPOTENCY_CONFLICT"
  | "IDENTITY_NOT_VERIFIED"
  | "INVALID_STATE"
  | "NOT_YET_LOGGED"
  | "TRANSFER_NOT_PERMITTED"
  | "POLICY_VERSION_SUPERSEDED"
  | "CONSENT_REQUIRED_CHANGE"
  | "STORE_UNAVAILABLE"
  | "STALE_READ"
  | "SLOW_SUBSCRIBER"
  | "TOO_MANY_SUBSCRIPTIONS"
  | "TOO_MANY_OPEN_REQUESTS"
  | "TOO_MANY_REQUESTS"
  | "RESPONSE_TOO_LARGE"
  | "INTERNAL_SERVER_ERROR";

/** A refusal the client can act on; its message never names another subject's data. */
export class LedgerError extends Error {
  override readonly name = "LedgerError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new LedgerError("BAD_USER_INPUT", message, details);

