// The messages between the SQLite adapter and its writer thread, and how errors cross between them.
import { type ErrorCode, LedgerError } from "../../domain/errors.js";
import type { LedgerEvent } from "../../domain/events.js";
import { KekMismatchError, KekMissingError } from "../../evidence/key-wrap.js";
import type { StoredCheckpoint } from "../../log/transparency-store.js";
import type { CommandRequest } from "../storage-port.js";
import { StoreUnavailableError } from "../store-unavailable.js";

/** What the writer thread is started with (workerData: copied into the thread's memory, never written anywhere). */
export interface WriterData {
  path: string;
  /** The key-encryption key new subject keys are wrapped under; null keeps keys as stored. */
  evidenceKek: Uint8Array | null;
  /** The URL of the module whose `commandProgram` the thread runs commands with; null: commands are refused. */
  commands: string | null;
}

/**
 * Both directions post arrays: the requests made in one turn of the main thread's loop, and the
 * replies of one turn of the writer's (a commit's events first, then its commands' answers).
 */
export type WriterRequest =
  | { id: number; op: "execute"; request: CommandRequest }
  | { id: number; op: "catchUpTree"; chunk: number }
  | { id: number; op: "saveCheckpoint"; checkpoint: StoredCheckpoint }
  | { id: number; op: "wrapEvidenceKeys" }
  | { id: number; op: "rebuild" }
  | { id: number; op: "commits" }
  | { id: number; op: "probe" }
  | { id: number; op: "close" };

/** An error as it crosses the thread boundary: the contract's code survives, the class is rebuilt. */
export interface WireError {
  code: ErrorCode | null;
  message: string;
  details?: Record<string, unknown>;
  /** For STORE_UNAVAILABLE: what the database said (kept for the log, never shown to a client). */
  cause?: string;
  /** An error without a contract code that callers tell apart by its class (the KEK's errors). */
  name?: "KekMismatchError" | "KekMissingError";
}

export type WriterReply =
  | { kind: "ready"; writable: boolean }
  | { kind: "failed"; error: WireError }
  | { kind: "commit"; events: readonly LedgerEvent[] }
  | { kind: "result"; id: number; ok: true; value: unknown; writable: boolean }
  | { kind: "result"; id: number; ok: false; error: WireError; writable: boolean };

export function toWire(e: unknown): WireError {
  if (e instanceof LedgerError) {
    const cause = e.cause instanceof Error ? `${(e.cause as { code?: string }).code ?? e.cause.name}: ${e.cause.message}` : undefined;
    return { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}), ...(cause ? { cause } : {}) };
  }
  if (e instanceof KekMismatchError || e instanceof KekMissingError) return { code: null, message: e.message, name: e.name };
  return { code: null, message: e instanceof Error ? e.message : String(e) };
}

export function fromWire(w: WireError): Error {
  if (w.code === "STORE_UNAVAILABLE") return new StoreUnavailableError(new Error(w.cause ?? w.message));
  if (w.code !== null) return new LedgerError(w.code, w.message, w.details);
  if (w.name === "KekMismatchError") return new KekMismatchError();
  if (w.name === "KekMissingError") return new KekMissingError();
  return new Error(w.message);
}
