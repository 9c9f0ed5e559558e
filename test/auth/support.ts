// What the authorization tests share: a caller with given scopes, and the LedgerError a rule throws.
import { expect } from "vitest";
import type { Caller } from "../../src/auth/scopes.js";
import { LedgerError } from "../../src/domain/errors.js";

export const caller = (subject: string, ...scopes: string[]): Caller => ({ subject, scopes: new Set(scopes), expiresAt: null });

export function refusal(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
  throw new Error("expected a LedgerError");
}
