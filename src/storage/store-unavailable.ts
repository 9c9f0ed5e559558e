// The write path's failure when storage cannot commit: any adapter raises it, the API maps it once.
import { LedgerError } from "../domain/errors.js";

/** The write path's failure when the database cannot commit (disk full, read-only file, closed). */
export class StoreUnavailableError extends LedgerError {
  constructor(cause: unknown) {
    super("STORE_UNAVAILABLE", "the ledger cannot store this right now; nothing was recorded, try again later");
    this.cause = cause;
  }
}
