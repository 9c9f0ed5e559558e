// LedgerError: a refusal with the contract's code, its words and its details.
import { describe, expect, it } from "vitest";
import { LedgerError, badInput } from "../../src/domain/errors.js";

describe("LedgerError", () => {
  it("carries its code, message and details, and names itself", () => {
    const e = new LedgerError("NOT_FOUND", "no such thing", { id: "x" });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: "LedgerError", code: "NOT_FOUND", message: "no such thing", details: { id: "x" } });
  });

  it("badInput is a BAD_USER_INPUT with the words and details given", () => {
    expect(badInput("too long", { field: "note" })).toMatchObject({ code: "BAD_USER_INPUT", message: "too long", details: { field: "note" } });
    expect(badInput("empty").details).toBeUndefined();
  });
});
