// The write path's failure when storage cannot commit: one code and one message for every adapter, the cause kept.
import { describe, expect, it } from "vitest";
import { LedgerError } from "../../../src/domain/errors.js";
import { StoreUnavailableError } from "../../../src/storage/store-unavailable.js";

describe("StoreUnavailableError", () => {
  it("is a LedgerError STORE_UNAVAILABLE that says nothing was recorded, keeping the cause for the log", () => {
    const cause = new Error("SQLITE_FULL: database or disk is full");
    const e = new StoreUnavailableError(cause);
    expect(e).toBeInstanceOf(LedgerError);
    expect(e.code).toBe("STORE_UNAVAILABLE");
    expect(e.message).toBe("the ledger cannot store this right now; nothing was recorded, try again later");
    expect(e.cause).toBe(cause);
  });
});
