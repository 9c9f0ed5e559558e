// The write path's failure when storage cannot commit: any adapter raises it, the API maps it once.
import { type ErrorCode, LedgerError } from "../domain/errors.js";

/** The write path's failure when the database cannot commit (disk full, read-only file, closed). */
export class StoreUnavailableError extends LedgerError {
  static readonly code: ErrorCode = "STORE_UNAVAILABLE";
  constructor(cause: unknown) {
    super(StoreUnavailableError.code, "the ledger cannot store this right now; nothing was recorded, try again later");
    this.cause = cause;
  }
}
