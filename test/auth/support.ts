// What the authorization tests share: a caller with given scopes, and the LedgerError a rule throws.
import type { Caller } from "../../src/auth/scopes.js";

export const caller = (subject: string, ...scopes: string[]): Caller => ({ subject, scopes: new Set(scopes), expiresAt: null });

export { refusal } from "../support/common.js";
