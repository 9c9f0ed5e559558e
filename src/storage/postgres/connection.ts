// Connection settings shared by the adapter's pool and listener, and which failures mean "the
// database is unreachable now" (STORE_UNAVAILABLE, retry) rather than "the command was wrong".
import pg from "pg";
export { StoreUnavailableError } from "../store-unavailable.js";

/** BIGINT columns (positions, instants) fit a double here: PostgreSQL hands them over as numbers. */
const INT8_OID = 20;
export const pgTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

/**
 * Session limits: a writer waits at most LOCK_TIMEOUT_MS for a stream or the chain tip; a session
 * that sits in an open transaction (a stalled or frozen replica) is cut off after
 * IDLE_IN_TRANSACTION_MS, which releases its locks. These bound how long one replica can hold back
 * every other writer.
 */
export const LOCK_TIMEOUT_MS = 5_000;
export const IDLE_IN_TRANSACTION_MS = 10_000;

export function connectionConfig(url: string, applicationName: string): pg.ClientConfig {
  return {
    connectionString: url,
    types: pgTypes,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    options: `-c lock_timeout=${LOCK_TIMEOUT_MS} -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
  };
}

/** SQLSTATE classes and codes that say the server or the connection is gone or refusing, not the command. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|58|55P03|40001|40P01|25P03)/;
const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

export function isUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed/i.test(e.message);
}

/**
 * The failures that say the server cannot be reached at all (not merely busy): these make the replica
 * not ready until a probe gets through. A full pool, a lock or statement timeout, or a serialisation
 * failure answer STORE_UNAVAILABLE for the one command but leave readiness alone, so that a loaded
 * replica is not taken out of the load balancer for being loaded.
 */
export function isConnectionLoss(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (/^(08|57P0[123])/.test(code) || (UNAVAILABLE_ERRNO.has(code) && code !== "ETIMEDOUT"))) return true;
  return /Connection terminated|Client has encountered a connection error|Client was closed/i.test(e.message);
}

/** A safe, one-line description of a connection URL for logs and errors: no password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.host}${u.pathname}`;
  } catch {
    return "an unparseable postgres URL";
  }
}
