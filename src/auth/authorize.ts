// Contract §2 as pure functions: which scope an operation needs and whose data a caller may touch.
import { LedgerError } from "../domain/errors.js";
import type { Caller, Scope } from "./scopes.js";

/** The caller when it holds any one of `anyOf`; UNAUTHENTICATED without a caller, FORBIDDEN without the scope. */
export function requireScope(caller: Caller | null, ...anyOf: Scope[]): Caller {
  if (!caller) throw new LedgerError("UNAUTHENTICATED", "authentication required");
  if (anyOf.length === 0 || anyOf.some((s) => caller.scopes.has(s))) return caller;
  throw new LedgerError("FORBIDDEN", `this operation needs the scope ${anyOf.join(" or ")}`);
}

/** Whether the caller holds the scope; false for no caller. */
export const hasScope = (caller: Caller | null, scope: Scope): boolean => caller?.scopes.has(scope) ?? false;

/**
 * The subject an operation acts on (contract §2):
 * - omitted, with `consent:self`: the caller itself;
 * - omitted, without `consent:self` but with `othersScope`: BAD_USER_INPUT "subjectId is required";
 * - the caller's own id: allowed with `consent:self` or `othersScope`;
 * - another subject: allowed only with `othersScope`, else FORBIDDEN saying nothing about that subject.
 */
export function subjectFor(caller: Caller | null, subjectId: string | null | undefined, othersScope: Scope): string {
  if (!caller) throw new LedgerError("UNAUTHENTICATED", "authentication required");
  const self = caller.scopes.has("consent:self");
  const others = caller.scopes.has(othersScope);
  if (subjectId === null || subjectId === undefined) {
    if (self) return caller.subject;
    if (others) throw new LedgerError("BAD_USER_INPUT", "subjectId is required");
    throw new LedgerError("FORBIDDEN", `this operation needs the scope consent:self or ${othersScope}`);
  }
  if (subjectId === "") throw new LedgerError("BAD_USER_INPUT", "subjectId must not be empty");
  if (subjectId === caller.subject) {
    if (self || others) return caller.subject;
    throw new LedgerError("FORBIDDEN", `this operation needs the scope consent:self or ${othersScope}`);
  }
  if (others) return subjectId;
  // The same words whether or not that subject exists, so the refusal reveals nothing about it.
  throw new LedgerError("FORBIDDEN", `acting on another subject needs the scope ${othersScope}`);
}
