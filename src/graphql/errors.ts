// Error masking at the edge: the contract's codes pass through; anything else becomes an error id.
import { randomUUID } from "node:crypto";
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { LedgerError } from "../domain/errors.js";

/** Codes produced by GraphQL itself for a client's mistake; their messages are safe to show. */
const CLIENT_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "QUERY_TOO_COMPLEX",
  "QUERY_TOO_DEEP",
  "TOO_MANY_REQUESTS",
  "RESPONSE_TOO_LARGE",
  "STALE_READ",
]);

function codeOf(e: unknown): string | undefined {
  if (e instanceof LedgerError) return e.code;
  if (e instanceof GraphQLError) return (e.extensions?.code as string | undefined) ?? codeOf(e.originalError);
  return undefined;
}

/**
 * Formats one error for a client. LedgerErrors keep their code and message; GraphQL's own client
 * errors keep theirs (a scalar's BAD_USER_INPUT inside a validation error surfaces as BAD_USER_INPUT);
 * everything else is logged with its stack under an error id and shown only as that id.
 */
export function formatError(logger: Logger, formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { ...(formatted.path ? { path: formatted.path } : {}), ...(formatted.locations ? { locations: formatted.locations } : {}) };
  if (original instanceof LedgerError) {
    if (original.code === "STORE_UNAVAILABLE") logger.error({ err: original.cause }, "store unavailable");
    return { message: original.message, ...where, extensions: { code: original.code, ...(original.details ?? {}) } };
  }
  const inner = original instanceof GraphQLError ? codeOf(original.originalError) : undefined;
  const code = (formatted.extensions?.code as string | undefined) ?? codeOf(original);
  if (inner === "BAD_USER_INPUT") return { message: formatted.message, ...where, extensions: { code: "BAD_USER_INPUT" } };
  if (code && CLIENT_CODES.has(code)) return { message: formatted.message, ...where, extensions: { code, ...pickHttp(formatted) } };
  const errorId = randomUUID();
  logger.error({ errorId, err: original }, "unexpected error");
  return { message: `Internal server error (error id ${errorId})`, ...where, extensions: { code: "INTERNAL_SERVER_ERROR", errorId } };
}

const pickHttp = (f: GraphQLFormattedError) => (f.extensions?.http ? { http: f.extensions.http } : {});

/** The extensions.code of each error in a result, for metrics. */
export const errorCodes = (errors: readonly GraphQLFormattedError[] | undefined) =>
  (errors ?? []).map((e) => String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR"));
